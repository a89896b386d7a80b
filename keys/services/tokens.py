import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction

from keys import clock, crypto
from keys.durations import format_duration
from keys.errors import Conflict, InvalidInput
from keys.models import IssuedToken, Issuer, KeyPair
from keys.neuronex import claims as neuronex_claims
from keys.selectors import issuer_export_warnings
from keys.services.actor import Actor
from keys.services.audit import audit_record
from keys.services.locks import issuer_keys_lock, serialize

MAX_LABEL_LENGTH = 200
MAX_REASON_LENGTH = 1000


@dataclass(frozen=True)
class MintedToken:
    """The one moment the token string exists outside the caller: show it, then drop it."""

    token: str
    record: IssuedToken
    warnings: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"<MintedToken {self.record.jti}>"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_mint(
    *,
    actor: Actor,
    issuer: Issuer,
    label: str,
    ttl: timedelta | None = None,
    expires_at: datetime | None = None,
) -> MintedToken:
    label = clean_text(label, field="label", max_length=MAX_LABEL_LENGTH, required=True)
    iat = int(clock.now().timestamp())
    exp = _expiry(issuer, iat, ttl, expires_at)
    if not issuer.is_active:
        raise Conflict(f"Issuer {issuer.name!r} is disabled and mints nothing.", field="issuer")
    jti = uuid.uuid4()
    payload = neuronex_claims.build_claims(
        iss=issuer.iss, aud=issuer.audience, jti=str(jti), iat=iat, exp=exp
    )
    with transaction.atomic():
        active_key = _active_key_for_signing(issuer)
        if active_key is None:
            raise Conflict(
                f"Issuer {issuer.name!r} has no active key pair: generate or import one first.",
                field="issuer",
            )
        key_pair_id, kid = active_key
        private_key = crypto.signing_keys.get(kid, lambda: _ciphertext(key_pair_id))
        token = neuronex_claims.encode_token(payload, private_key)
        record = IssuedToken.objects.create(
            jti=jti,
            issuer=issuer,
            key_pair_id=key_pair_id,
            label=label,
            iat=datetime.fromtimestamp(iat, UTC),
            exp=datetime.fromtimestamp(exp, UTC),
            claims=payload,
            token_sha256=token_hash(token),
            minted_by=actor.user,
            minted_by_name=actor.display_name[:150],
            channel=actor.channel,
        )
        audit_record(
            actor=actor,
            action="token.mint",
            target=record,
            details={
                "issuer": issuer.name,
                "kid": kid,
                "label": label,
                "iss": payload["iss"],
                "aud": payload["aud"],
                "exp": exp,
            },
        )
    warnings = tuple(issuer_export_warnings(issuer, kid))
    return MintedToken(token=token, record=record, warnings=warnings)


def token_revoke(*, actor: Actor, token: IssuedToken, reason: str = "") -> IssuedToken:
    reason = clean_text(reason, field="reason", max_length=MAX_REASON_LENGTH)
    with transaction.atomic():
        token = IssuedToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is not None:
            by = f" by {token.revoked_by_name}" if token.revoked_by_name else ""
            raise Conflict(
                f"Token {token.jti} was revoked already, at "
                f"{token.revoked_at:%Y-%m-%d %H:%M:%S} UTC{by}."
            )
        token.revoked_at = clock.now()
        token.revoked_by = actor.user
        token.revoked_by_name = actor.display_name[:150]
        token.revoke_reason = reason
        token.save(update_fields=["revoked_at", "revoked_by", "revoked_by_name", "revoke_reason"])
        audit_record(
            actor=actor,
            action="token.revoke",
            target=token,
            details={"issuer_id": token.issuer_id, "label": token.label, "reason": reason},
        )
    return token


def clean_text(value: str, *, field: str, max_length: int, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(f"A {field} is required.", field=field)
    if len(value) > max_length:
        raise InvalidInput(
            f"The {field} has at most {max_length} characters ({len(value)} given).", field=field
        )
    if any(ord(char) < 32 and char not in "\t" for char in value) or "\x7f" in value:
        raise InvalidInput(f"The {field} may not contain control characters.", field=field)
    return value


def _expiry(issuer: Issuer, iat: int, ttl: timedelta | None, expires_at: datetime | None) -> int:
    if ttl is not None and expires_at is not None:
        raise InvalidInput("Give a lifetime or an expiry time, not both.", field="expires_at")
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise InvalidInput("The expiry time needs a time zone, e.g. 2027-01-31T00:00:00Z.")
        exp = int(expires_at.timestamp())
        field = "expires_at"
    else:
        ttl = ttl if ttl is not None else issuer.default_ttl
        exp = iat + int(ttl.total_seconds())
        field = "ttl"
    if exp <= iat:
        raise InvalidInput(
            f"The expiry must lie in the future (now is "
            f"{datetime.fromtimestamp(iat, UTC):%Y-%m-%d %H:%M:%S} UTC).",
            field=field,
        )
    if exp - iat > issuer.max_ttl.total_seconds():
        raise InvalidInput(
            f"That lifetime ({format_duration(timedelta(seconds=exp - iat))}) is longer than "
            f"issuer {issuer.name!r} allows ({format_duration(issuer.max_ttl)}).",
            field=field,
        )
    return exp


def _active_key_for_signing(issuer: Issuer) -> tuple[int, str] | None:
    """The id and kid of the issuer's active key pair.

    The issuer's key lock, taken shared first and held until this transaction ends, keeps a
    rotation or retirement (which take it exclusively) from retiring the key between signing
    and commit; concurrent mints share it, and a waiting rotation is not overtaken by later
    mints. SQLite's IMMEDIATE transactions already exclude a concurrent rotation.

    Plain SQL because this runs on every mint: building the ORM query costs 0.35 ms here,
    more than the signature.
    """
    serialize(issuer_keys_lock(issuer.pk), shared=True)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, kid FROM {KeyPair._meta.db_table} "  # noqa: S608 (no user input)
            "WHERE issuer_id = %s AND status = %s",
            [issuer.pk, KeyPair.Status.ACTIVE.value],
        )
        return cursor.fetchone()


def _ciphertext(key_pair_id: int) -> str:
    return KeyPair.objects.values_list("private_key_encrypted", flat=True).get(pk=key_pair_id)
