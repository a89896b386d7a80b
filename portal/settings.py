"""Settings, all from the environment.

Development (``DJANGO_DEBUG`` on, the default for a source checkout) needs nothing: SQLite, a
secret key, an encryption key and an export folder are made once under ``var/``. With
``DJANGO_DEBUG`` off nothing is invented: the system checks in ``portal.checks`` refuse to start
without the production secrets.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from portal.env import (
    cache_settings,
    dev_secret_file,
    env_bool,
    env_choice,
    env_duration,
    env_int,
    env_list,
    proxy_ssl_header,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
SECRET_KEY_CONFIGURED = bool(SECRET_KEY) or DEBUG
if not SECRET_KEY and DEBUG:
    SECRET_KEY = dev_secret_file(VAR_DIR / "secret_key", lambda: secrets.token_urlsafe(50))
elif not SECRET_KEY:
    # Never a known value: a random key per process, so that Django gets as far as the
    # system checks, where portal.E001 stops the start with a hint.
    SECRET_KEY = secrets.token_urlsafe(50)

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)

INSTALLED_APPS = [
    "portal.admin_site.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "portal.apps.ApiTokensConfig",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_guid",
    "portal",
    "keys",
]

MIDDLEWARE = [
    "django_guid.middleware.guid_middleware",
    "portal.middleware.health_check_middleware",
    "portal.middleware.forwarded_client_middleware",
    "django.middleware.security.SecurityMiddleware",
    "keys.api.middleware.RequestBodyLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Axes first: it counts failed logins and refuses a locked-out one before the password is
# checked (see "Logins" below).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite by default. WAL, synchronous=NORMAL and IMMEDIATE transactions: in the default journal
# mode an fsync per commit holds SQLite near 550 commits/s here, and deferred transactions that
# upgrade to writes fail with "database is locked" instead of waiting.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
        conn_max_age=60,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not memory, so that the concurrency tests' threads share one database; one per
    # test process, so that two test runs in one checkout do not delete each other's.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
    VAR_DIR.mkdir(exist_ok=True)

# The API throttles' counters live here. A file cache by default, because every gunicorn
# worker of the host must see the same counters (a memory cache would give each its own);
# with portals on several hosts, Redis (PORTAL_CACHE_URL), which all of them share and which
# counts atomically.
CACHES = {
    "default": cache_settings(
        os.environ.get("PORTAL_CACHE_URL", ""),
        folder=os.environ.get("PORTAL_CACHE_DIR", str(VAR_DIR / "cache")),
    )
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "keys.api.schema.PortalAutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header makes an anonymous request a 401.
        "keys.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "keys.api.errors.exception_handler",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["keys.api.throttles.PerUserMethodThrottle"],
}
# API tokens for scripts: stored as SHA-512 digests, sent as "Authorization: Token <key>",
# no expiry unless one is given when the token is made.
REST_KNOX = {"TOKEN_TTL": None, "AUTO_REFRESH": False}
SPECTACULAR_SETTINGS = {
    "TITLE": "NeuronEX Token Portal API",
    "VERSION": "1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Separate request and response components, so that a request's schema says what the
    # API requires (non-blank strings, no read-only fields) instead of what it returns.
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Production: HTTPS, cookies, sessions, logins, logs -----------------------------------
# Each defaults to what a production deployment behind HTTPS needs when DJANGO_DEBUG is off;
# `manage.py check --deploy` reports nothing with them (tests/portal_tests/test_deploy.py).

SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", not DEBUG)
# Behind a reverse proxy that terminates TLS: the header by which it says the request came
# over HTTPS (e.g. X-Forwarded-Proto). Only set it when the proxy always sets or strips that
# header: a client could otherwise claim HTTPS.
SECURE_PROXY_SSL_HEADER = proxy_ssl_header(os.environ.get("DJANGO_SECURE_PROXY_SSL_HEADER", ""))
# How many reverse proxies stand in front and append the client's address to
# X-Forwarded-For (portal.middleware.forwarded_client_middleware). 0: REMOTE_ADDR as it is.
PORTAL_TRUSTED_PROXIES = env_int("PORTAL_TRUSTED_PROXIES", 0)
if PORTAL_TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured("PORTAL_TRUSTED_PROXIES must be 0 or more")
# Origins (scheme://host[:port]) whose forms may post here when they differ from the host the
# portal sees, e.g. behind a proxy that rewrites the Host header.
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# An admin session ends after this long, however active; a login holds the keys to NeuronEX.
SESSION_COOKIE_AGE = int(
    env_duration("PORTAL_SESSION_LIFETIME", timedelta(hours=12)).total_seconds()
)

# Logins (django-axes): after PORTAL_LOGIN_FAILURE_LIMIT failed passwords for one user name
# from one address, that pair is refused for PORTAL_LOGIN_LOCKOUT (a 429), without the
# password being checked. The address is the one the audit log records.
AXES_FAILURE_LIMIT = env_int("PORTAL_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_duration("PORTAL_LOGIN_LOCKOUT", timedelta(minutes=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "keys.services.actor.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# Logs go to stdout, as JSON lines in production (PORTAL_LOG_FORMAT=json, the default with
# DJANGO_DEBUG off) or as text; each line of a request carries its request id, which is taken
# from an incoming X-Request-ID (a UUID) or made, and returned in the response's X-Request-ID.
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": True,
    "RETURN_HEADER": True,
    "EXPOSE_HEADER": True,
    "INTEGRATIONS": [],
}
LOG_FORMAT = env_choice("PORTAL_LOG_FORMAT", ("json", "text"), "text" if DEBUG else "json")
# manage.py sets stderr: a command's stdout is its output (CSV, JSON, a table).
LOG_STREAM = env_choice("PORTAL_LOG_STREAM", ("stdout", "stderr"), "stdout")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "django_guid.log_filters.CorrelationId"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s",
            "rename_fields": {
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
                "correlation_id": "request_id",
            },
        },
        "text": {"format": "%(asctime)s %(levelname)s [%(correlation_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": f"ext://sys.{LOG_STREAM}",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # django-guid says at DEBUG, for every request, that it made an id; axes announces
        # itself at INFO in every process, management commands included: noise.
        "django_guid": {"level": "WARNING"},
        "axes.apps": {"level": "WARNING"},
        # At DEBUG it logs every failed variable lookup with the page's whole context, which
        # on the pages that show a new token holds the token.
        "django.template": {"level": "INFO"},
    },
}

# --- The portal's own settings -----------------------------------------------------------

# Fernet keys that encrypt private keys at rest: the first encrypts, all decrypt.
PORTAL_ENCRYPTION_KEYS = env_list("PORTAL_ENCRYPTION_KEYS", [])
if not PORTAL_ENCRYPTION_KEYS and DEBUG:
    PORTAL_ENCRYPTION_KEYS = [
        dev_secret_file(VAR_DIR / "encryption.key", lambda: Fernet.generate_key().decode())
    ]

NEURONEX_ETC_DIR = os.environ.get(
    "NEURONEX_ETC_DIR", str(VAR_DIR / "neuronex-etc") if DEBUG else "/opt/neuronex/etc"
)
PORTAL_DEFAULT_AUDIENCE = os.environ.get("PORTAL_DEFAULT_AUDIENCE", "neuronex")
PORTAL_MAX_TOKEN_TTL = env_duration("PORTAL_MAX_TOKEN_TTL", timedelta(days=365))
PORTAL_DEFAULT_TOKEN_TTL = env_duration("PORTAL_DEFAULT_TOKEN_TTL", timedelta(days=90))
# How long a mint sent with an Idempotency-Key keeps its answer (and, encrypted, its token)
# for a retry of the same request.
PORTAL_IDEMPOTENCY_WINDOW = env_duration("PORTAL_IDEMPOTENCY_WINDOW", timedelta(hours=24))

# Per user, for the two API calls a runaway script can repeat fastest. DRF rates: "120/min".
PORTAL_THROTTLE_RATES = {
    "mint": os.environ.get("PORTAL_THROTTLE_MINT", "120/min"),
    "verify": os.environ.get("PORTAL_THROTTLE_VERIFY", "600/min"),
}
# The largest request body the API reads: room for the largest key file an import accepts
# (keys.crypto.MAX_IMPORT_BYTES), with JSON's escapes.
PORTAL_API_MAX_BODY_BYTES = env_int("PORTAL_API_MAX_BODY_BYTES", 128 * 1024)

# Expiry alerts (send_expiry_alerts): who gets the digest, and how long before a token's expiry
# it is mentioned, once per threshold. The thresholds are checked by portal.E009.
PORTAL_ALERT_EMAILS = env_list("PORTAL_ALERT_EMAILS", [])
PORTAL_ALERT_THRESHOLDS = env_list("PORTAL_ALERT_THRESHOLDS", ["30d", "7d", "1d"])
# Django's mail settings, for the alerts. A timeout, because Django's default waits forever
# and a cron job stuck on a dead mail server would never report.
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "neuronex-portal@localhost")
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("DJANGO_EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("DJANGO_EMAIL_TIMEOUT", 30)
