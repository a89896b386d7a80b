"""The alert settings: thresholds and addresses are checked before anything runs (portal.E009)."""

import pytest

from portal.checks import check_alert_settings
from tests.processes import CHECK, PRODUCTION, python


def test_defaults_and_environment_reach_the_settings():
    show = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.PORTAL_ALERT_EMAILS, s.PORTAL_ALERT_THRESHOLDS, s.DEFAULT_FROM_EMAIL, "
        "s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_TIMEOUT)"
    )
    default = python(show, **PRODUCTION)
    assert default.returncode == 0, default.stderr
    assert default.stdout.split() == [
        "[]",
        "['30d',",
        "'7d',",
        "'1d']",
        "neuronex-portal@localhost",
        "localhost",
        "25",
        "30",
    ]
    configured = python(
        show,
        **PRODUCTION,
        PORTAL_ALERT_EMAILS="ops@example.com, oncall@example.com",
        PORTAL_ALERT_THRESHOLDS="14d,2d",
        DJANGO_DEFAULT_FROM_EMAIL="portal@example.com",
        DJANGO_EMAIL_HOST="mail.example.com",
        DJANGO_EMAIL_PORT="587",
        DJANGO_EMAIL_TIMEOUT="10",
    )
    assert configured.returncode == 0, configured.stderr
    assert configured.stdout.split() == [
        "['ops@example.com',",
        "'oncall@example.com']",
        "['14d',",
        "'2d']",
        "portal@example.com",
        "mail.example.com",
        "587",
        "10",
    ]


def test_production_with_alerts_configured_passes_the_checks():
    env = {**PRODUCTION, "PORTAL_ALERT_EMAILS": "ops@example.com", "PORTAL_ALERT_THRESHOLDS": "14d"}
    result = python(CHECK, **env)
    assert result.returncode == 0, result.stderr


def test_a_malformed_threshold_stops_the_start():
    result = python(CHECK, **{**PRODUCTION, "PORTAL_ALERT_THRESHOLDS": "30d,soon"})
    assert result.returncode != 0
    assert "portal.E009" in result.stderr
    assert "PORTAL_ALERT_THRESHOLDS: 'soon' is not a duration" in result.stderr
    assert "HINT" in result.stderr


@pytest.mark.parametrize(
    ("thresholds", "problem"),
    [
        (["soon"], "'soon' is not a duration"),
        (["0d"], "'0d' is not a positive duration"),
        ([], "no threshold is given"),
        (["7d", "168h"], "'168h' repeats the threshold 7d"),
        (["4000d"], "'4000d' is longer than 3650d"),
    ],
)
def test_bad_thresholds_are_reported(settings, thresholds, problem):
    settings.PORTAL_ALERT_THRESHOLDS = thresholds
    errors = check_alert_settings(None)
    assert [error.id for error in errors] == ["portal.E009"]
    assert errors[0].msg.startswith(f"PORTAL_ALERT_THRESHOLDS: {problem}")


def test_bad_addresses_are_reported(settings):
    settings.PORTAL_ALERT_EMAILS = ["ops@example.com", "ops at example.com", "root@localhost"]
    errors = check_alert_settings(None)
    assert [(error.id, error.msg) for error in errors] == [
        ("portal.E009", "PORTAL_ALERT_EMAILS: 'ops at example.com' is not an e-mail address.")
    ]


def test_good_settings_pass(settings):
    settings.PORTAL_ALERT_EMAILS = ["ops@example.com"]
    settings.PORTAL_ALERT_THRESHOLDS = ["60d", "14d", "12h"]
    assert check_alert_settings(None) == []
