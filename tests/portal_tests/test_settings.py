"""Settings from the environment: development needs nothing, production fails closed."""

import stat

import pytest
from cryptography.fernet import Fernet

from portal.env import dev_secret_file
from tests.processes import CHECK, PRODUCTION, ROOT, python

WSGI = "import portal.wsgi"


def test_production_settings_pass_the_checks():
    result = python(CHECK, **PRODUCTION)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("missing", "check_id"),
    [
        ("DJANGO_SECRET_KEY", "portal.E001"),
        ("PORTAL_ENCRYPTION_KEYS", "portal.E002"),
        ("DJANGO_ALLOWED_HOSTS", "portal.E010"),
    ],
)
def test_production_refuses_to_start_without_a_secret(missing, check_id):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    for code in (CHECK, WSGI):
        result = python(code, **env)
        assert result.returncode != 0
        assert check_id in result.stderr
        assert "HINT" in result.stderr


def test_a_malformed_encryption_key_is_reported():
    result = python(CHECK, **{**PRODUCTION, "PORTAL_ENCRYPTION_KEYS": "not-a-key"})
    assert result.returncode != 0
    assert "portal.E003" in result.stderr


def test_an_unknown_default_audience_is_reported():
    result = python(CHECK, **{**PRODUCTION, "PORTAL_DEFAULT_AUDIENCE": "ekuiper"})
    assert result.returncode != 0
    assert "portal.E004" in result.stderr


def test_a_malformed_boolean_is_refused():
    result = python(CHECK, DJANGO_DEBUG="maybe")
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be one of" in result.stderr


def test_development_needs_no_settings():
    result = python(
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, bool(s.SECRET_KEY), len(s.PORTAL_ENCRYPTION_KEYS), "
        "s.DATABASES['default']['ENGINE'], s.NEURONEX_ETC_DIR)"
    )
    assert result.returncode == 0, result.stderr
    debug, has_secret, keys, engine, etc_dir = result.stdout.split()
    assert (debug, has_secret, keys) == ("True", "True", "1")
    assert engine == "django.db.backends.sqlite3"
    assert etc_dir == str(ROOT / "var" / "neuronex-etc")


def test_production_default_export_folder_is_neuronex_etc():
    result = python(
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.NEURONEX_ETC_DIR)",
        **PRODUCTION,
    )
    assert result.stdout.strip() == "/opt/neuronex/etc"


def test_development_secret_is_made_once_with_mode_0600(tmp_path):
    path = tmp_path / "var" / "encryption.key"
    first = dev_secret_file(path, lambda: Fernet.generate_key().decode())
    second = dev_secret_file(path, lambda: "never used")
    assert first == second
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("rate", ["lots", "0/min", "10/fortnight"])
def test_a_malformed_throttle_rate_is_reported(rate):
    result = python(CHECK, **{**PRODUCTION, "PORTAL_THROTTLE_MINT": rate})
    assert result.returncode != 0
    assert "portal.E007" in result.stderr
    assert "PORTAL_THROTTLE_MINT" in result.stderr


def test_a_malformed_body_limit_is_refused():
    result = python(CHECK, **{**PRODUCTION, "PORTAL_API_MAX_BODY_BYTES": "64k"})
    assert result.returncode != 0
    assert "PORTAL_API_MAX_BODY_BYTES must be a whole number" in result.stderr
