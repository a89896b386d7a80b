from django.db import transaction

from keys import crypto
from keys.models import KeyPair
from keys.services.actor import Actor
from keys.services.audit import audit_record


def encryption_keys_rotate(*, actor: Actor) -> int:
    """Re-encrypt every stored private key under the first of PORTAL_ENCRYPTION_KEYS, so that
    the older keys can be dropped from the setting afterwards. All or nothing."""
    with transaction.atomic():
        key_pairs = list(
            KeyPair.objects.select_for_update().only("id", "private_key_encrypted").order_by("id")
        )
        for key_pair in key_pairs:
            key_pair.private_key_encrypted = crypto.reencrypt(key_pair.private_key_encrypted)
        KeyPair.objects.bulk_update(key_pairs, ["private_key_encrypted"], batch_size=500)
        audit_record(actor=actor, action="encryption.rotate", details={"key_pairs": len(key_pairs)})
    return len(key_pairs)
