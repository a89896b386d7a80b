"""prune_tokens: old token rows go, in batches; what NeuronEX may still accept and the audit log
stay."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from keys import clock
from keys.models import AuditEvent, ExpiryAlert, IssuedToken
from keys.services.audit import audit_verify
from keys.services.issuers import issuer_create
from keys.services.keypairs import keypair_generate
from keys.services.tokens import token_mint, token_revoke

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def mint(issuer, actor, label, ttl):
    return token_mint(actor=actor, issuer=issuer, label=label, ttl=ttl).record


def state() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (IssuedToken, AuditEvent, ExpiryAlert))


@pytest.fixture
def tokens(issuer, key_pair, cli_actor, now):
    """Five prunable rows (4 of plant-a, one of them revoked; 1 of plant-b) and four that
    must stay, with "now" at 2026-06-01 12:00 UTC and a 180-day cutoff at 2025-12-03 12:00."""
    other = issuer_create(actor=cli_actor, name="plant-b")
    keypair_generate(actor=cli_actor, issuer=other, bits=2048)
    old = []
    with clock.frozen_at(now - 400 * DAY):
        for index in range(3):
            old.append(mint(issuer, cli_actor, f"old {index}", (10 + index) * DAY))
        old.append(mint(other, cli_actor, "old plant-b", 30 * DAY))
        revoked_old = mint(issuer, cli_actor, "old, revoked", 5 * DAY)
        token_revoke(actor=cli_actor, token=revoked_old, reason="left")
        old.append(revoked_old)
    with clock.frozen_at(now - 200 * DAY):
        edge = mint(issuer, cli_actor, "expired exactly at the cutoff", 20 * DAY)
    with clock.frozen_at(now - 20 * DAY):
        recent = mint(issuer, cli_actor, "expired 10 days ago", 10 * DAY)
    revoked_live = mint(issuer, cli_actor, "revoked, still accepted", 30 * DAY)
    token_revoke(actor=cli_actor, token=revoked_live, reason="leaked")
    active = mint(other, cli_actor, "active", 90 * DAY)
    ExpiryAlert.objects.create(token=old[0], threshold=86400, sent_at=now - 390 * DAY)
    ExpiryAlert.objects.create(token=active, threshold=86400 * 90, sent_at=now)
    return {"old": old, "kept": [edge, recent, revoked_live, active]}


def test_prunes_old_rows_in_batches_and_keeps_the_rest(tokens, now):
    events_before = AuditEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        output = run("prune_tokens", "--expired-before", "180d", "--batch-size", "2")
    assert output == (
        "Deleted 5 token(s) that expired before 2025-12-03 12:00:00 UTC (180d ago): "
        "plant-a 4, plant-b 1; their expiries run from 2025-05-02 12:00:00 to "
        "2025-05-27 12:00:00 UTC.\n"
    )
    remaining = set(IssuedToken.objects.values_list("pk", flat=True))
    assert remaining == {token.pk for token in tokens["kept"]}
    # Three batches of at most two, each its own DELETE of tokens.
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    token_deletes = [sql for sql in deletes if IssuedToken._meta.db_table + '"' in sql]
    assert len(token_deletes) == 3
    # Alerts go with their token; the audit log only grows.
    assert list(ExpiryAlert.objects.values_list("token_id", flat=True)) == [tokens["kept"][3].pk]
    assert AuditEvent.objects.count() == events_before + 1
    assert audit_verify()[1] is None


def test_one_audit_event_with_counts_per_issuer_and_the_expiry_range(tokens, cli_actor, now):
    run("prune_tokens", "--expired-before", "180d", "--batch-size", "2")
    event = AuditEvent.objects.get(action="tokens.prune")
    assert event.actor_name.startswith("cli:")
    assert event.details == {
        "expired_before": "180d",
        "cutoff": "2025-12-03T12:00:00Z",
        "deleted": 5,
        "by_issuer": {"plant-a": 4, "plant-b": 1},
        "exp_min": "2025-05-02T12:00:00Z",
        "exp_max": "2025-05-27T12:00:00Z",
        "batches": 3,
        "batch_size": 2,
        "complete": True,
    }
    # The events about the pruned tokens are all still there.
    jtis = {str(token.jti) for token in tokens["old"]}
    mints = AuditEvent.objects.filter(action="token.mint", object_id__in=jtis)
    assert mints.count() == 5


def test_dry_run_says_what_would_go_and_changes_nothing(tokens):
    before = state()
    output = run("prune_tokens", "--expired-before", "180d", "--dry-run")
    assert output.startswith("Would delete 5 token(s) that expired before 2025-12-03 12:00:00")
    assert "plant-a 4, plant-b 1" in output
    assert "from 2025-05-02 12:00:00 to 2025-05-27 12:00:00 UTC" in output
    assert state() == before


def test_nothing_to_prune_changes_nothing(tokens):
    before = state()
    output = run("prune_tokens", "--expired-before", "500d")
    assert output == "No token expired before 2025-01-17 12:00:00 UTC (500d ago).\n"
    assert state() == before


def test_never_prunes_an_unexpired_token_however_short_the_age(tokens):
    run("prune_tokens", "--expired-before", "1s")
    remaining = IssuedToken.objects.all()
    assert {token.label for token in remaining} == {"revoked, still accepted", "active"}
    assert all(token.exp > clock.now() for token in remaining)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--expired-before", "half a year"], "not a duration"),
        (["--expired-before", "0d"], "not a positive duration"),
        (["--expired-before", "180d", "--batch-size", "0"], "batch size must be at least 1"),
        ([], "--expired-before"),
    ],
)
def test_bad_arguments_are_refused_and_change_nothing(tokens, args, message):
    before = state()
    with pytest.raises(CommandError, match=message) as error:
        call_command("prune_tokens", *args, stdout=StringIO())
    assert error.value.returncode == 1
    assert "\n" not in str(error.value)
    assert state() == before
