from django.contrib.auth.signals import user_login_failed

from keys.services.actor import Actor, client_address
from keys.services.audit import audit_record


def connect() -> None:
    user_login_failed.connect(_record_login_failure, dispatch_uid="keys.login_failed")


def _record_login_failure(sender, credentials, request=None, **kwargs) -> None:
    # Django has already masked the password in `credentials`; record only the username.
    actor = Actor(
        user=None,
        channel="admin" if request is not None else "",
        remote_addr=client_address(request) if request is not None else None,
        name=str(credentials.get("username", ""))[:150],
    )
    audit_record(actor=actor, action="auth.login_failed", details={})
