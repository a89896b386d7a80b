from django.db import transaction

from keys import crypto
from keys.models import IdempotentMint, KeyPair
from keys.services.actor import Actor
from keys.services.audit import audit_record


def encryption_keys_rotate(*, actor: Actor) -> int:
    """Re-encrypt every stored secret (private keys, and the tokens kept for idempotent
    retries) under the first of PORTAL_ENCRYPTION_KEYS, so that the older keys can be dropped
    from the setting afterwards. All or nothing. Returns the number of private keys."""
    with transaction.atomic():
        key_pairs = _reencrypt_all(KeyPair, "private_key_encrypted")
        kept_tokens = _reencrypt_all(IdempotentMint, "token_encrypted")
        audit_record(
            actor=actor,
            action="encryption.rotate",
            details={"key_pairs": key_pairs, "kept_tokens": kept_tokens},
        )
    return key_pairs


def _reencrypt_all(model, field: str) -> int:
    rows = list(model.objects.select_for_update().only("id", field).order_by("id"))
    for row in rows:
        setattr(row, field, crypto.reencrypt(getattr(row, field)))
    model.objects.bulk_update(rows, [field], batch_size=500)
    return len(rows)
