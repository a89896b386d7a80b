"""Mints that a client may safely retry: the ``Idempotency-Key`` of the API.

A client that lost the answer to a mint (a timeout, a dropped connection) sends the same request
with the same key again and gets the first answer, token included, instead of a second token.
The key is scoped to the user; reusing it for a different request is refused.
"""

import hashlib
import json
from collections.abc import Callable, Mapping

from django.conf import settings
from django.db import transaction

from keys import clock, crypto
from keys.errors import InvalidInput, Unprocessable
from keys.models import IdempotentMint
from keys.services.actor import Actor
from keys.services.audit import audit_record
from keys.services.locks import serialize
from keys.services.tokens import MintedToken

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def idempotency_key_clean(raw: str) -> str:
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise InvalidInput(
            f"The {HEADER} header must be 1 to {MAX_KEY_LENGTH} printable ASCII characters, "
            "such as a UUID.",
            field=HEADER,
        )
    return key


def request_fingerprint(data: Mapping) -> str:
    """The same request body, whatever the order of its keys, gives the same digest."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def token_mint_once(
    *, actor: Actor, key: str, fingerprint: str, mint: Callable[[], MintedToken]
) -> tuple[MintedToken, bool]:
    """``mint()`` unless this user already minted with ``key``: then the first answer again.
    Returns the minted token and whether it is a replay."""
    key = idempotency_key_clean(key)
    key_sha256 = hashlib.sha256(key.encode("utf-8")).hexdigest()
    now = clock.now()
    with transaction.atomic():
        # Two retries racing each other: the second waits here and then finds the first's
        # answer. The unique constraint is the backstop on a database without such locks.
        serialize(f"keys.idempotent-mint.{actor.user.pk}.{key_sha256}")
        IdempotentMint.objects.filter(expires_at__lte=now).delete()
        earlier = (
            IdempotentMint.objects.select_related("token")
            .filter(user=actor.user, key_sha256=key_sha256)
            .first()
        )
        if earlier is not None:
            return _replay(actor, earlier, fingerprint), True
        minted = mint()
        IdempotentMint.objects.create(
            user=actor.user,
            key_sha256=key_sha256,
            request_sha256=fingerprint,
            token=minted.record,
            token_encrypted=crypto.encrypt_text(minted.token),
            warnings=list(minted.warnings),
            created_at=now,
            expires_at=now + settings.PORTAL_IDEMPOTENCY_WINDOW,
        )
    return minted, False


def _replay(actor: Actor, earlier: IdempotentMint, fingerprint: str) -> MintedToken:
    if earlier.request_sha256 != fingerprint:
        raise Unprocessable(
            f"This {HEADER} was used for a different request at "
            f"{earlier.created_at:%Y-%m-%d %H:%M:%S} UTC. Use a new key for a new request.",
            field=HEADER,
            code="idempotency_key_reused",
        )
    # The token leaves the portal a second time; the audit log says so and to whom.
    audit_record(
        actor=actor,
        action="token.mint_replay",
        target=earlier.token,
        details={"first_answered_at": earlier.created_at.isoformat()},
    )
    return MintedToken(
        token=crypto.decrypt_text(earlier.token_encrypted),
        record=earlier.token,
        warnings=tuple(earlier.warnings),
    )
