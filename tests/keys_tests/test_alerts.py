"""Expiry alerts: audit_tokens --fail-on-expiring for scripts, send_expiry_alerts for people."""

import json
import socket
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from keys import clock
from keys.models import AuditEvent, ExpiryAlert, IssuedToken
from keys.services.alerts import parse_thresholds, remaining
from keys.services.audit import audit_verify
from keys.services.issuers import issuer_create
from keys.services.keypairs import keypair_generate
from keys.services.tokens import token_mint, token_revoke
from tests.processes import manage_runner

DAY = timedelta(days=1)


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def mint(issuer, actor, label, ttl):
    return token_mint(actor=actor, issuer=issuer, label=label, ttl=ttl).record


def closed_port() -> int:
    """A local port nothing listens on: bound and released, so a connection is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- audit_tokens --fail-on-expiring ------------------------------------------------------


@pytest.fixture
def window_tokens(issuer, key_pair, cli_actor, now):
    """Tokens around a 14-day window: inside, exactly on its edge, just outside, revoked,
    expired."""
    with clock.frozen_at(now - timedelta(hours=2)):
        mint(issuer, cli_actor, "expired an hour ago", timedelta(hours=1))
    revoked = mint(issuer, cli_actor, "revoked", 3 * DAY)
    token_revoke(actor=cli_actor, token=revoked)
    return {
        "inside": mint(issuer, cli_actor, "inside", 3 * DAY),
        "edge": mint(issuer, cli_actor, "on the edge", 14 * DAY),
        "outside": mint(issuer, cli_actor, "one second late", 14 * DAY + timedelta(seconds=1)),
    }


@pytest.mark.django_db
def test_fail_on_expiring_lists_then_exits_2(window_tokens):
    out = StringIO()
    with pytest.raises(CommandError) as error:
        call_command(
            "audit_tokens",
            "--expiring-within",
            "14d",
            "--fail-on-expiring",
            "--format",
            "json",
            stdout=out,
        )
    assert error.value.returncode == 2
    assert str(error.value) == "2 active token(s) expire within 14d."
    rows = json.loads(out.getvalue())
    assert [row["jti"] for row in rows] == [
        str(window_tokens["inside"].jti),
        str(window_tokens["edge"].jti),
    ]
    assert {row["status"] for row in rows} == {"active"}


@pytest.mark.django_db
@pytest.mark.parametrize("output", ["table", "csv"])
def test_fail_on_expiring_prints_in_the_chosen_format(window_tokens, output):
    out = StringIO()
    with pytest.raises(CommandError) as error:
        call_command(
            "audit_tokens",
            "--expiring-within=14d",
            "--fail-on-expiring",
            f"--format={output}",
            stdout=out,
        )
    assert error.value.returncode == 2
    lines = out.getvalue().splitlines()
    assert len(lines) == 3  # a header and the two tokens
    assert "on the edge" in lines[2]
    assert "one second late" not in out.getvalue()


@pytest.mark.django_db
def test_fail_on_expiring_exits_0_when_nothing_expires_in_the_window(window_tokens):
    output = run("audit_tokens", "--expiring-within", "2d", "--fail-on-expiring")
    assert output.splitlines() == ["jti  issuer  label  status  exp  minted_by"]


@pytest.mark.django_db
def test_fail_on_expiring_needs_a_window(window_tokens):
    out = StringIO()
    with pytest.raises(CommandError, match="needs --expiring-within") as error:
        call_command("audit_tokens", "--fail-on-expiring", stdout=out)
    assert error.value.returncode == 1
    assert out.getvalue() == ""


@pytest.fixture
def manage(transactional_db):
    return manage_runner()


def test_exit_statuses_as_cron_sees_them(manage):
    assert manage("create_issuer", "plant-a").returncode == 0
    assert manage("generate_key", "plant-a").returncode == 0
    for label, ttl in (("soon", "10d"), ("later", "60d")):
        assert manage("mint_token", "plant-a", "--label", label, "--ttl", ttl).returncode == 0

    expiring = manage("audit_tokens", "--expiring-within", "14d", "--fail-on-expiring")
    assert expiring.returncode == 2, expiring.stderr
    assert "soon" in expiring.stdout
    assert "later" not in expiring.stdout
    assert expiring.stderr.strip() == "CommandError: 1 active token(s) expire within 14d."

    quiet = manage("audit_tokens", "--expiring-within", "5d", "--fail-on-expiring")
    assert quiet.returncode == 0, quiet.stderr
    assert len(quiet.stdout.splitlines()) == 1

    no_window = manage("audit_tokens", "--fail-on-expiring")
    assert no_window.returncode == 1
    assert no_window.stdout == ""
    assert "--fail-on-expiring needs --expiring-within" in no_window.stderr


def test_a_failed_send_exits_non_zero_and_records_nothing(manage):
    assert manage("create_issuer", "plant-a").returncode == 0
    assert manage("generate_key", "plant-a").returncode == 0
    assert manage("mint_token", "plant-a", "--label", "x", "--ttl", "3d").returncode == 0
    events = AuditEvent.objects.count()
    result = manage(
        "send_expiry_alerts",
        PORTAL_ALERT_EMAILS="ops@example.com",
        DJANGO_EMAIL_HOST="127.0.0.1",
        DJANGO_EMAIL_PORT=str(closed_port()),
        DJANGO_EMAIL_TIMEOUT="5",
    )
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Could not mail the expiry alerts to ops@example.com" in result.stderr
    assert ExpiryAlert.objects.count() == 0
    assert AuditEvent.objects.count() == events


# --- send_expiry_alerts -------------------------------------------------------------------


@pytest.fixture
def alert_settings(settings):
    settings.PORTAL_ALERT_EMAILS = ["ops@example.com", "oncall@example.com"]
    settings.PORTAL_ALERT_THRESHOLDS = ["30d", "7d", "1d"]
    settings.DEFAULT_FROM_EMAIL = "portal@example.com"
    return settings


@pytest.fixture
def fleet(issuer, key_pair, cli_actor, now):
    """Two issuers' tokens at every distance from expiry that matters."""
    other = issuer_create(actor=cli_actor, name="plant-b")
    keypair_generate(actor=cli_actor, issuer=other, bits=2048)
    with clock.frozen_at(now - 2 * DAY):
        mint(issuer, cli_actor, "already expired", DAY)
    revoked = mint(issuer, cli_actor, "revoked, 3 days left", 3 * DAY)
    token_revoke(actor=cli_actor, token=revoked)
    return {
        "a20d": mint(issuer, cli_actor, "historian", 20 * DAY),
        "a5d": mint(issuer, cli_actor, "line 3 SCADA", 5 * DAY),
        "b12h": mint(other, cli_actor, "MES bridge", timedelta(hours=12)),
        "b30d": mint(other, cli_actor, "dashboard, exactly 30 days", 30 * DAY),
        "a60d": mint(issuer, cli_actor, "far off", 60 * DAY),
    }


def alerted(token: IssuedToken) -> set[int]:
    return set(ExpiryAlert.objects.filter(token=token).values_list("threshold", flat=True))


@pytest.mark.django_db
def test_one_digest_grouped_by_threshold_and_issuer(alert_settings, fleet, mailoutbox, now):
    output = run("send_expiry_alerts")
    assert output == (
        "Mailed 4 expiring token(s) (within 1d, 7d, 30d) to ops@example.com, oncall@example.com.\n"
    )
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["ops@example.com", "oncall@example.com"]
    assert mail.from_email == "portal@example.com"
    assert mail.subject == "NeuronEX Token Portal: 4 token(s) expire soon, the first in 12h"
    body = mail.body
    # Tightest threshold first; within one, by issuer.
    order = [
        "Expiring within 1d",
        "Issuer plant-b:",
        "MES bridge",
        "Expiring within 7d",
        "Issuer plant-a:",
        "line 3 SCADA",
        "Expiring within 30d",
        "Issuer plant-a:",
        "historian",
        "Issuer plant-b:",
        "dashboard, exactly 30 days",
    ]
    positions, start = [], 0
    for text in order:
        start = body.index(text, start)
        positions.append(start)
    assert positions == sorted(positions)
    block = body[body.index("  - line 3 SCADA") :].split("\n\n")[0].splitlines()
    assert block[:5] == [
        "  - line 3 SCADA",
        f"    jti:       {fleet['a5d'].jti}",
        "    issuer:    plant-a",
        "    expires:   2026-06-06 12:00:00 UTC",
        "    remaining: 5d",
    ]
    for key in ("a20d", "a5d", "b12h", "b30d"):
        assert body.count(str(fleet[key].jti)) == 1
    for left_out in ("far off", "revoked, 3 days left", "already expired"):
        assert left_out not in body
    assert str(fleet["a60d"].jti) not in body


@pytest.mark.django_db
def test_each_crossed_threshold_is_recorded_with_an_audit_event(alert_settings, fleet, now):
    events = AuditEvent.objects.count()
    run("send_expiry_alerts")
    assert alerted(fleet["b12h"]) == {86400, 7 * 86400, 30 * 86400}
    assert alerted(fleet["a5d"]) == {7 * 86400, 30 * 86400}
    assert alerted(fleet["a20d"]) == alerted(fleet["b30d"]) == {30 * 86400}
    assert alerted(fleet["a60d"]) == set()
    assert ExpiryAlert.objects.count() == 7
    assert set(ExpiryAlert.objects.values_list("sent_at", flat=True)) == {now}
    assert AuditEvent.objects.count() == events + 1
    event = AuditEvent.objects.get(action="alerts.send")
    assert event.details == {
        "recipients": ["ops@example.com", "oncall@example.com"],
        "tokens": 4,
        "alerts": 7,
        "by_threshold": {"1d": 1, "7d": 1, "30d": 2},
        "by_issuer": {"plant-a": 2, "plant-b": 2},
    }
    assert audit_verify()[1] is None


@pytest.mark.django_db
def test_a_second_run_sends_nothing(alert_settings, fleet, mailoutbox):
    run("send_expiry_alerts")
    events = AuditEvent.objects.count()
    output = run("send_expiry_alerts")
    assert output == "No token has crossed an alert threshold since the last digest.\n"
    assert len(mailoutbox) == 1
    assert ExpiryAlert.objects.count() == 7
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_crossing_the_next_threshold_mails_that_threshold_only(
    alert_settings, fleet, mailoutbox, now
):
    run("send_expiry_alerts")
    # Four days on, the 5-day token has exactly one day left: on the 1d edge.
    with clock.frozen_at(now + 4 * DAY):
        run("send_expiry_alerts")
        run("send_expiry_alerts")
    assert len(mailoutbox) == 2
    second = mailoutbox[1].body
    assert str(fleet["a5d"].jti) in second
    assert "remaining: 1d\n" in second
    assert "Expiring within 1d" in second
    assert "Expiring within 7d" not in second
    assert "Expiring within 30d" not in second
    for key in ("a20d", "b30d", "a60d"):  # b12h has expired by now
        assert str(fleet[key].jti) not in second
    assert alerted(fleet["a5d"]) == {86400, 7 * 86400, 30 * 86400}
    # The 20-day token reaches 7d after 13 days, and is mailed for it alone.
    with clock.frozen_at(now + 13 * DAY):
        run("send_expiry_alerts")
    assert len(mailoutbox) == 3
    third = mailoutbox[2].body
    assert str(fleet["a20d"].jti) in third
    assert str(fleet["a5d"].jti) not in third  # expired
    assert "Expiring within 7d" in third


@pytest.mark.django_db
def test_a_failed_send_records_nothing_and_the_next_run_retries(alert_settings, fleet, mailoutbox):
    alert_settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    alert_settings.EMAIL_HOST = "127.0.0.1"
    alert_settings.EMAIL_PORT = closed_port()
    alert_settings.EMAIL_TIMEOUT = 5
    events = AuditEvent.objects.count()
    with pytest.raises(CommandError, match="Nothing was recorded") as error:
        call_command("send_expiry_alerts", stdout=StringIO())
    assert error.value.returncode == 1
    assert "\n" not in str(error.value)
    assert ExpiryAlert.objects.count() == 0
    assert AuditEvent.objects.count() == events

    alert_settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    run("send_expiry_alerts")
    assert len(mailoutbox) == 1
    assert ExpiryAlert.objects.count() == 7


@pytest.mark.django_db
def test_without_addresses_it_says_so_and_does_nothing(settings, fleet, mailoutbox):
    settings.PORTAL_ALERT_EMAILS = []
    events = AuditEvent.objects.count()
    assert run("send_expiry_alerts") == (
        "PORTAL_ALERT_EMAILS is not set: no expiry alerts are sent.\n"
    )
    assert run("send_expiry_alerts", "--verbosity", "0") == ""
    assert mailoutbox == []
    assert ExpiryAlert.objects.count() == 0
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_bad_thresholds_stop_the_command(alert_settings, fleet, mailoutbox):
    # call_command skips the system checks that would stop a real run (portal.E009).
    alert_settings.PORTAL_ALERT_THRESHOLDS = ["7d", "soon"]
    with pytest.raises(CommandError, match="PORTAL_ALERT_THRESHOLDS: 'soon' is not a duration"):
        call_command("send_expiry_alerts", stdout=StringIO())
    assert mailoutbox == []
    assert ExpiryAlert.objects.count() == 0


@pytest.mark.django_db
def test_pruning_a_token_drops_its_alerts(alert_settings, fleet, cli_actor, now):
    from keys.services.retention import tokens_prune

    run("send_expiry_alerts")
    with clock.frozen_at(now + 400 * DAY):
        tokens_prune(actor=cli_actor, expired_before=180 * DAY)
    assert ExpiryAlert.objects.count() == 0
    assert IssuedToken.objects.filter(pk=fleet["a5d"].pk).exists() is False


def test_thresholds_parse_tightest_first():
    assert parse_thresholds(["30d", "1d", "12h"]) == [timedelta(hours=12), DAY, 30 * DAY]


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(days=6, hours=23, minutes=59), "6d 23h"),
        (timedelta(days=7), "7d"),
        (timedelta(hours=5, minutes=3, seconds=59), "5h 3m"),
        (timedelta(hours=2), "2h"),
        (timedelta(minutes=9, seconds=30), "9m"),
        (timedelta(seconds=20), "less than a minute"),
    ],
)
def test_remaining_time_reads_as_people_say_it(delta, text):
    assert remaining(delta) == text


@pytest.mark.parametrize("command", ["send_expiry_alerts", "prune_tokens"])
def test_the_new_commands_explain_themselves(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        call_command(command, "--help")
    assert exit_.value.code == 0
    assert "usage:" in capsys.readouterr().out
