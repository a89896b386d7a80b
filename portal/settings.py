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

from portal.env import dev_secret_file, env_bool, env_duration, env_int, env_list

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
    "portal",
    "keys",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "keys.api.middleware.RequestBodyLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

# The API throttles' counters live here. A file cache, because every gunicorn worker of the
# host must see the same counters; a memory cache would give each worker its own.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": os.environ.get("PORTAL_CACHE_DIR", str(VAR_DIR / "cache")),
    }
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
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
