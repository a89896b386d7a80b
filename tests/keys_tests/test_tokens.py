from datetime import UTC, datetime, timedelta

import jwt
import pytest

from keys import clock
from keys.errors import Conflict, InvalidInput
from keys.models import AuditEvent, IssuedToken
from keys.models.token import TokenStatus
from keys.services.issuers import issuer_disable, issuer_update
from keys.services.keypairs import keypair_retire
from keys.services.tokens import token_hash, token_mint, token_revoke

pytestmark = pytest.mark.django_db


def mint(issuer, actor, **kwargs):
    kwargs.setdefault("label", "line 3 SCADA")
    return token_mint(actor=actor, issuer=issuer, **kwargs)


def test_mint_records_the_token_by_hash_with_its_claims(issuer, key_pair, cli_actor, now):
    minted = mint(issuer, cli_actor, ttl=timedelta(days=30))
    record = IssuedToken.objects.get()
    assert record.token_sha256 == token_hash(minted.token)
    assert record.key_pair == key_pair
    assert record.claims == jwt.decode(minted.token, options={"verify_signature": False})
    assert record.iat == now
    assert record.exp == now + timedelta(days=30)
    assert record.channel == "cli"
    assert record.minted_by_name == "cli:test"


def test_mint_without_lifetime_uses_the_issuers_default(issuer, key_pair, cli_actor, now):
    issuer_update(actor=cli_actor, issuer=issuer, default_ttl=timedelta(hours=12))
    issuer.refresh_from_db()
    assert mint(issuer, cli_actor).record.exp == now + timedelta(hours=12)


def test_mint_until_an_expiry_instant(issuer, key_pair, cli_actor, now):
    expires = datetime(2026, 7, 1, 8, 30, tzinfo=UTC)
    minted = mint(issuer, cli_actor, expires_at=expires)
    assert minted.record.exp == expires
    assert minted.record.claims["exp"] == int(expires.timestamp())


def test_iat_is_whole_seconds_and_not_in_the_future(issuer, key_pair, cli_actor):
    instant = datetime(2026, 6, 1, 12, 0, 0, 999_999, tzinfo=UTC)
    with clock.frozen_at(instant):
        claims = mint(issuer, cli_actor, ttl=timedelta(hours=1)).record.claims
    assert claims["iat"] == int(instant.timestamp())
    assert claims["iat"] <= instant.timestamp()


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"ttl": timedelta(days=366)}, "ttl", "longer than"),
        ({"expires_at": datetime(2027, 6, 2, tzinfo=UTC)}, "expires_at", "longer than"),
        ({"expires_at": datetime(2026, 6, 1, 12, 0, tzinfo=UTC)}, "expires_at", "future"),
        ({"expires_at": datetime(2020, 1, 1, tzinfo=UTC)}, "expires_at", "future"),
        ({"expires_at": datetime(2026, 7, 1)}, None, "time zone"),
        (
            {"ttl": timedelta(days=1), "expires_at": datetime(2026, 7, 1, tzinfo=UTC)},
            "expires_at",
            "not both",
        ),
        ({"label": ""}, "label", "required"),
        ({"label": "   "}, "label", "required"),
        ({"label": "x" * 201}, "label", "at most 200"),
        ({"label": "bad\nlabel"}, "label", "control characters"),
    ],
)
def test_mint_refuses_bad_input_and_writes_nothing(
    issuer, key_pair, cli_actor, now, kwargs, field, words
):
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as error:
        mint(issuer, cli_actor, **kwargs)
    assert error.value.field == field
    assert words in error.value.message
    assert not IssuedToken.objects.exists()
    assert AuditEvent.objects.count() == events


def test_lifetime_of_exactly_the_maximum_is_allowed(issuer, key_pair, cli_actor, now):
    assert mint(issuer, cli_actor, ttl=timedelta(days=365)).record.exp == now + timedelta(days=365)


def test_maximum_lifetime_is_per_issuer(issuer, key_pair, cli_actor, now):
    issuer_update(
        actor=cli_actor, issuer=issuer, max_ttl=timedelta(days=7), default_ttl=timedelta(days=1)
    )
    issuer.refresh_from_db()
    mint(issuer, cli_actor, ttl=timedelta(days=7))
    with pytest.raises(InvalidInput, match="allows \\(7d\\)"):
        mint(issuer, cli_actor, ttl=timedelta(days=8))


def test_disabled_issuer_cannot_mint(issuer, key_pair, cli_actor):
    issuer = issuer_disable(actor=cli_actor, issuer=issuer)
    with pytest.raises(Conflict, match="disabled"):
        mint(issuer, cli_actor)
    assert not IssuedToken.objects.exists()


def test_issuer_without_active_key_cannot_mint(issuer, cli_actor):
    with pytest.raises(Conflict, match="no active key pair"):
        mint(issuer, cli_actor)


def test_issuer_whose_key_was_retired_cannot_mint(issuer, key_pair, cli_actor):
    keypair_retire(actor=cli_actor, key_pair=key_pair)
    with pytest.raises(Conflict, match="no active key pair"):
        mint(issuer, cli_actor)


def test_mint_writes_an_audit_event_without_the_token(issuer, key_pair, cli_actor):
    minted = mint(issuer, cli_actor)
    event = AuditEvent.objects.get(action="token.mint")
    assert event.object_id == str(minted.record.jti)
    assert event.details["kid"] == key_pair.kid
    assert minted.token not in str(event.details)


def test_status_moves_from_active_to_expired_at_exp(issuer, key_pair, cli_actor, now):
    record = mint(issuer, cli_actor, ttl=timedelta(hours=1)).record
    assert record.status_at(now) == TokenStatus.ACTIVE
    just_before = now + timedelta(minutes=59, seconds=59)
    at_exp = now + timedelta(hours=1)
    assert record.status_at(just_before) == TokenStatus.ACTIVE
    assert record.status_at(at_exp) == TokenStatus.EXPIRED
    with clock.frozen_at(at_exp):
        assert list(IssuedToken.objects.expired()) == [record]
        assert not IssuedToken.objects.active().exists()


def test_status_filters_run_in_the_database(issuer, key_pair, cli_actor, now):
    short = mint(issuer, cli_actor, label="short", ttl=timedelta(hours=1)).record
    long = mint(issuer, cli_actor, label="long", ttl=timedelta(days=30)).record
    revoked = mint(issuer, cli_actor, label="revoked", ttl=timedelta(days=30)).record
    token_revoke(actor=cli_actor, token=revoked)
    later = now + timedelta(days=1)
    statuses = {
        status: set(IssuedToken.objects.with_status(status, later).values_list("label", flat=True))
        for status in TokenStatus.values
    }
    assert statuses == {"active": {"long"}, "expired": {"short"}, "revoked": {"revoked"}}
    annotated = dict(IssuedToken.objects.annotate_status(later).values_list("label", "status"))
    assert annotated == {"short": "expired", "long": "active", "revoked": "revoked"}
    assert short.status_at(later) == "expired"
    assert long.status_at(later) == "active"


def test_revoked_wins_over_expired(issuer, key_pair, cli_actor, now):
    record = mint(issuer, cli_actor, ttl=timedelta(hours=1)).record
    record = token_revoke(actor=cli_actor, token=record, reason="leaked")
    assert record.status_at(now + timedelta(days=2)) == TokenStatus.REVOKED


def test_revoke_records_who_when_and_why(issuer, key_pair, cli_actor, now):
    record = mint(issuer, cli_actor).record
    record = token_revoke(actor=cli_actor, token=record, reason="line 3 decommissioned")
    record.refresh_from_db()
    assert record.revoked_at == now
    assert record.revoked_by_name == "cli:test"
    assert record.revoke_reason == "line 3 decommissioned"
    event = AuditEvent.objects.get(action="token.revoke")
    assert event.details["reason"] == "line 3 decommissioned"


def test_revoking_twice_is_an_error_not_a_second_record(issuer, key_pair, cli_actor, now):
    record = token_revoke(actor=cli_actor, token=mint(issuer, cli_actor).record, reason="first")
    with clock.frozen_at(now + timedelta(hours=1)), pytest.raises(Conflict, match="already"):
        token_revoke(actor=cli_actor, token=record, reason="second")
    record.refresh_from_db()
    assert record.revoke_reason == "first"
    assert record.revoked_at == now
    assert AuditEvent.objects.filter(action="token.revoke").count() == 1


def test_signing_uses_the_cached_key_not_a_fresh_load(issuer, key_pair, cli_actor, monkeypatch):
    from keys import crypto

    loads = []
    real = crypto.decrypt_private_key
    monkeypatch.setattr(crypto, "decrypt_private_key", lambda c: loads.append(1) or real(c))
    for index in range(5):
        mint(issuer, cli_actor, label=f"token {index}")
    assert len(loads) == 1
