from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.views.decorators.debug import sensitive_variables
from knox.models import AuthToken

from keys import clock
from keys.durations import format_duration
from keys.errors import InvalidInput, NotFound
from keys.services.actor import Actor
from keys.services.audit import audit_record

# Longer is "never" in practice, and far longer overflows the date of its expiry.
MAX_LIFETIME = timedelta(days=3650)


# An error report of a failure after the key exists (the audit write) must not carry it.
@sensitive_variables("key")
def api_token_create(
    *, actor: Actor, user: AbstractBaseUser, expires_in: timedelta | None = None
) -> str:
    """A new API token for ``user``, returned once; only its SHA-512 digest is stored. It acts
    with the user's role, until ``expires_in`` has passed or it is deleted."""
    if expires_in is not None and expires_in > MAX_LIFETIME:
        raise InvalidInput(
            f"An API token lives at most {format_duration(MAX_LIFETIME)}; give no lifetime "
            "for one that never expires.",
            field="expires_in",
        )
    with transaction.atomic():
        instance, key = AuthToken.objects.create(user=user)
        if expires_in is not None:
            # From the portal's clock, as the expiry check (keys/api/authentication.py) reads
            # it; knox would count from the wall clock.
            instance.expiry = clock.now() + expires_in
            instance.save(update_fields=["expiry"])
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


def api_token_revoke(*, actor: Actor, token: AuthToken) -> None:
    """Delete ``token``: from the commit on, a request that sends its key gets 401. Knox keeps
    no record of a deleted token, so the audit event is the only trace of the revocation."""
    with transaction.atomic():
        deleted, _ = AuthToken.objects.filter(pk=token.pk).delete()
        if not deleted:  # revoked meanwhile, or an expired one that knox cleaned up
            raise NotFound("This API token no longer exists: it was already revoked.")
        audit_record(
            actor=actor,
            action="api_token.revoke",
            target=token.user,
            details={"user": token.user.get_username(), "token_key": token.token_key},
        )
