from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from knox.models import AuthToken

from keys.services.actor import Actor
from keys.services.audit import audit_record


def api_token_create(
    *, actor: Actor, user: AbstractBaseUser, expires_in: timedelta | None = None
) -> str:
    """A new API token for ``user``, returned once; only its SHA-512 digest is stored. It acts
    with the user's role, until ``expires_in`` has passed or it is deleted."""
    with transaction.atomic():
        instance, key = AuthToken.objects.create(user=user, expiry=expires_in)
        audit_record(
            actor=actor,
            action="api_token.create",
            target=user,
            details={
                "user": user.get_username(),
                "token_key": instance.token_key,  # the first characters, as knox shows them
                "expiry": instance.expiry.isoformat() if instance.expiry else None,
            },
        )
    return key
