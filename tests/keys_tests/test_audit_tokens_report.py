"""audit_tokens --report and --audit-events: the report's figures and the audit log from the
command line, as a table, CSV and JSON."""

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from keys.models import AuditEvent
from keys.services.tokens import token_mint, token_revoke
from keys.token_report import TokenFigures, token_report

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("audit_tokens", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def tokens(issuer, key_pair, cli_actor, now):
    from datetime import timedelta

    token_mint(actor=cli_actor, issuer=issuer, label="soon", ttl=timedelta(days=3))
    token_mint(actor=cli_actor, issuer=issuer, label="later", ttl=timedelta(days=20))
    gone = token_mint(actor=cli_actor, issuer=issuer, label="gone", ttl=timedelta(days=60))
    token_revoke(actor=cli_actor, token=gone.record, reason="test")


def test_the_report_as_json_is_the_whole_report(tokens, now):
    assert json.loads(run("--report", "--format", "json")) == token_report(now).as_dict()


def test_the_report_as_csv_has_a_row_per_issuer_and_the_total(tokens, now):
    rows = list(csv.DictReader(io.StringIO(run("--report", "--format", "csv"))))
    assert [row["issuer"] for row in rows] == ["plant-a", "all"]
    for row in rows:
        assert row["active"] == "2"
        assert row["expiring_7d"] == "1"
        assert row["expiring_30d"] == "2"
        assert row["revoked"] == "1"
        assert row["revoked_still_accepted"] == "1"  # plant-a.pem is still exported


def test_the_report_as_a_table_names_every_figure(tokens, now):
    header, *lines = run("--report").splitlines()
    assert header.split() == ["issuer", *TokenFigures.FIELDS]
    assert [line.split()[0] for line in lines] == ["plant-a", "all"]


def test_the_audit_log_as_csv_is_every_event_newest_first(tokens):
    rows = list(csv.DictReader(io.StringIO(run("--audit-events", "--format", "csv"))))
    expected = list(AuditEvent.objects.order_by("-seq").values_list("seq", "hash"))
    assert [(int(row["seq"]), row["hash"]) for row in rows] == expected


def test_the_audit_log_filtered_by_action(tokens):
    events = json.loads(run("--audit-events", "--action", "token.revoke", "--format", "json"))
    assert [event["action"] for event in events] == ["token.revoke"]
    assert events[0]["details"]["reason"] == "test"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--report", "--issuer", "plant-a"], "take no token filters"),
        (["--audit-events", "--expiring-within", "7d"], "take no token filters"),
        (["--action", "token.mint"], "add --audit-events"),
    ],
)
def test_options_that_do_not_fit_together_are_refused(db, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
