"""Production hardening: `check --deploy` is clean under the documented production environment,
HTTPS and cookie settings follow the environment, the health check answers any host over plain
HTTP, logins are rate limited, and logs are JSON lines carrying the request id."""

import json
import secrets
import uuid

import pytest
from django.contrib.auth.models import User
from django.test import Client

from keys.models import AuditEvent
from tests.processes import PRODUCTION, python

pytestmark = pytest.mark.django_db

# What README's production settings section asks for, with a real secret key (Django's own
# check refuses a key of one repeated character).
DOCUMENTED = {**PRODUCTION, "DJANGO_SECRET_KEY": secrets.token_urlsafe(50)}
SETUP = "import django; django.setup(); from django.conf import settings as s; "


def setting_values(names: str, **env: str) -> list[str]:
    result = python(
        SETUP + f"print(*[repr(getattr(s, n)) for n in {names.split()!r}], sep='|')", **env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().split("|")


def test_check_deploy_reports_nothing():
    result = python(
        "import django; django.setup(); from django.core.management import call_command; "
        "call_command('check', deploy=True, fail_level='WARNING')",
        **DOCUMENTED,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout + result.stderr


def test_production_defaults_to_https_only():
    assert setting_values(
        "SECURE_SSL_REDIRECT SESSION_COOKIE_SECURE CSRF_COOKIE_SECURE SECURE_HSTS_SECONDS "
        "SECURE_HSTS_INCLUDE_SUBDOMAINS SECURE_PROXY_SSL_HEADER SESSION_COOKIE_AGE",
        **DOCUMENTED,
    ) == ["True", "True", "True", "31536000", "True", "None", "43200"]


def test_development_stays_plain_http():
    assert setting_values("SECURE_SSL_REDIRECT SESSION_COOKIE_SECURE SECURE_HSTS_SECONDS") == [
        "False",
        "False",
        "0",
    ]


def test_behind_a_proxy():
    env = {
        **DOCUMENTED,
        "DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
        "DJANGO_CSRF_TRUSTED_ORIGINS": "https://portal.example.com,https://ops.example.com:8443",
        "PORTAL_SESSION_LIFETIME": "30m",
    }
    assert setting_values(
        "SECURE_PROXY_SSL_HEADER CSRF_TRUSTED_ORIGINS SESSION_COOKIE_AGE", **env
    ) == [
        "('HTTP_X_FORWARDED_PROTO', 'https')",
        "['https://portal.example.com', 'https://ops.example.com:8443']",
        "1800",
    ]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DJANGO_SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto: https", "HTTP header name"),
        ("PORTAL_LOG_FORMAT", "xml", "PORTAL_LOG_FORMAT must be one of json, text"),
        ("PORTAL_SESSION_LIFETIME", "a while", "PORTAL_SESSION_LIFETIME"),
        ("PORTAL_LOGIN_FAILURE_LIMIT", "five", "whole number"),
    ],
)
def test_a_malformed_setting_stops_the_start(name, value, message):
    result = python(SETUP, **{**DOCUMENTED, name: value})
    assert result.returncode != 0
    assert message in result.stderr


# --- In the running portal -----------------------------------------------------------------


@pytest.fixture
def https_only(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["portal.example.com"]


def test_the_health_check_answers_any_host_over_http(https_only):
    client = Client()
    response = client.get("/healthz", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    # Nothing else is exempt: an unknown host is refused, plain HTTP redirected.
    assert client.get("/admin/login/", HTTP_HOST="10.1.2.3:8000").status_code == 400
    redirect = client.get("/admin/login/", HTTP_HOST="portal.example.com")
    assert redirect.status_code == 301
    assert redirect["Location"] == "https://portal.example.com/admin/login/"


def test_responses_carry_a_request_id(client):
    made = client.get("/admin/login/")
    assert uuid.UUID(made["X-Request-ID"])
    given = str(uuid.uuid4())
    assert client.get("/admin/login/", HTTP_X_REQUEST_ID=given)["X-Request-ID"] == given
    # Not a UUID: not trusted, a new one is made.
    replaced = client.get("/admin/login/", HTTP_X_REQUEST_ID="<script>")["X-Request-ID"]
    assert uuid.UUID(replaced)


def test_logs_are_json_lines_with_the_request_id():
    """A real process with the production logging: a request that logs (an unknown API
    address is a warning) writes one JSON object per line, with the response's request id."""
    code = (
        SETUP + "from django.test import Client; "
        "r = Client().get('/api/v1/nothing-here/', HTTP_HOST='portal.example.com', secure=True); "
        "print('REQUEST-ID', r['X-Request-ID'], r.status_code)"
    )
    result = python(code, **DOCUMENTED)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    request_id = next(line.split()[1] for line in lines if line.startswith("REQUEST-ID"))
    records = [json.loads(line) for line in lines if line.startswith("{")]
    warning = next(record for record in records if "nothing-here" in record["message"])
    assert warning["level"] == "WARNING"
    assert warning["request_id"] == request_id
    assert {"time", "logger"} <= set(warning)


# --- Logins --------------------------------------------------------------------------------

LOGIN = "/admin/login/"


@pytest.fixture
def staff(db):
    return User.objects.create_user(username="operator", password="right-password", is_staff=True)


def attempt(client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})


def test_logins_are_locked_after_five_failures(staff, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "operator", "wrong").status_code == 200  # the form again
    locked = attempt(client, "operator", "wrong")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    # Now even the right password is refused, without being checked.
    refused = attempt(client, "operator", "right-password")
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session
    # Each failure is in the audit log.
    failures = AuditEvent.objects.filter(action="auth.login_failed", actor_name="operator")
    assert failures.count() >= settings.AXES_FAILURE_LIMIT


def test_a_lockout_is_per_user_name_and_address(staff, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "operator", "wrong")
    assert attempt(client, "operator", "right-password").status_code == 429
    # Another address may still log in as the same user.
    elsewhere = Client(REMOTE_ADDR="192.0.2.10")
    assert attempt(elsewhere, "operator", "right-password").status_code == 302


def test_a_success_before_the_limit_starts_the_count_again(staff, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "operator", "wrong")
    assert attempt(client, "operator", "right-password").status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "operator", "wrong")
    assert attempt(client, "operator", "right-password").status_code == 302


# --- Several hosts -------------------------------------------------------------------------

REDIS = "redis://127.0.0.1:6379/15"
REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"


def test_a_redis_cache_for_portals_on_several_hosts():
    assert setting_values("CACHES", **{**DOCUMENTED, "PORTAL_CACHE_URL": REDIS}) == [
        repr({"default": {"BACKEND": REDIS_CACHE, "LOCATION": REDIS}})
    ]
    result = python(SETUP, **{**DOCUMENTED, "PORTAL_CACHE_URL": "memcached://cache:11211"})
    assert result.returncode != 0
    assert "PORTAL_CACHE_URL must be a Redis URL" in result.stderr


def test_two_processes_share_the_throttle_counts_through_redis():
    """What the throttles rely on: an increment in one process is seen by another."""
    key = f"portal-test-{uuid.uuid4()}"
    count = (
        SETUP + "from django.core.cache import cache; "
        f"cache.add({key!r}, 0, timeout=60); print(cache.incr({key!r}))"
    )
    env = {**DOCUMENTED, "PORTAL_CACHE_URL": REDIS}
    first, second = python(count, **env), python(count, **env)
    if "Connection refused" in first.stderr:
        pytest.skip("no Redis server on 127.0.0.1:6379")
    assert (first.stdout.strip(), second.stdout.strip()) == ("1", "2"), first.stderr


# --- Behind reverse proxies ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("trusted", "forwarded", "seen"),
    [
        (0, "203.0.113.7", "127.0.0.1"),  # no proxy configured: the header is the client's word
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "10.9.9.9, 203.0.113.7", "203.0.113.7"),  # the left entry is the client's claim
        (2, "198.51.100.4, 203.0.113.7", "198.51.100.4"),
        (2, "203.0.113.7", "127.0.0.1"),  # fewer hops than proxies: not through all of them
        (1, "not-an-address", "127.0.0.1"),
        (1, "2001:db8:0:0::1", "2001:db8::1"),
    ],
)
def test_the_client_address_behind_proxies(settings, trusted, forwarded, seen):
    """What the audit log records for a failed login, the lockout's address too."""
    settings.PORTAL_TRUSTED_PROXIES = trusted
    Client().post(
        LOGIN, {"username": "someone", "password": "wrong"}, HTTP_X_FORWARDED_FOR=forwarded
    )
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.remote_addr == seen


def test_a_negative_proxy_count_stops_the_start():
    result = python(SETUP, **{**DOCUMENTED, "PORTAL_TRUSTED_PROXIES": "-1"})
    assert result.returncode != 0
    assert "PORTAL_TRUSTED_PROXIES must be 0 or more" in result.stderr
