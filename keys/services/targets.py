from pathlib import Path

from django.conf import settings
from django.db import transaction

from keys.errors import Conflict, InvalidInput
from keys.models import ExportTarget
from keys.models.target import DEFAULT_TARGET_NAME
from keys.neuronex.profiles import PROFILE_CHOICES
from keys.services.actor import Actor
from keys.services.audit import audit_record
from keys.services.changes import apply_changes

EDITABLE_FIELDS = ("path", "profile", "enabled", "auto_export")


def target_ensure_default() -> ExportTarget:
    """The target for NEURONEX_ETC_DIR exists without anyone creating it, and follows the
    setting when it changes."""
    target, created = ExportTarget.objects.get_or_create(
        name=DEFAULT_TARGET_NAME, defaults={"path": settings.NEURONEX_ETC_DIR}
    )
    if not created and target.path != settings.NEURONEX_ETC_DIR:
        target.path = settings.NEURONEX_ETC_DIR
        target.save(update_fields=["path"])
    if settings.DEBUG and Path(settings.NEURONEX_ETC_DIR).is_relative_to(settings.VAR_DIR):
        Path(settings.NEURONEX_ETC_DIR).mkdir(parents=True, exist_ok=True)
    return target


def target_create(*, actor: Actor, name: str, path: str, **fields) -> ExportTarget:
    target = ExportTarget(name=name, path=path, **fields)
    _validate(target)
    with transaction.atomic():
        if ExportTarget.objects.filter(name=name).exists():
            raise Conflict(f"An export target named {name!r} exists already.", field="name")
        target.save(force_insert=True)
        audit_record(actor=actor, action="target.create", target=target, details=_snapshot(target))
    return target


def target_update(*, actor: Actor, target: ExportTarget, **changes) -> ExportTarget:
    if target.is_default and "path" in changes and changes["path"] != target.path:
        raise InvalidInput(
            "The default target's folder is the NEURONEX_ETC_DIR setting; change it there.",
            field="path",
        )
    with transaction.atomic():
        target = ExportTarget.objects.select_for_update().get(pk=target.pk)
        changed = apply_changes(
            target, changes, editable=EDITABLE_FIELDS, snapshot=_snapshot, validate=_validate
        )
        if changed:
            target.save(update_fields=list(changes))
            audit_record(
                actor=actor, action="target.update", target=target, details={"changed": changed}
            )
    return target


def target_set_issuers(*, actor: Actor, target: ExportTarget, issuers) -> None:
    """Limit the target to these issuers; none means every issuer."""
    names = sorted(issuer.name for issuer in issuers)
    with transaction.atomic():
        before = sorted(target.issuers.values_list("name", flat=True))
        if before == names:
            return
        target.issuers.set(issuers)
        audit_record(
            actor=actor,
            action="target.update",
            target=target,
            details={"changed": {"issuers": [before, names]}},
        )


def validate_target_path(path: str) -> None:
    if not Path(path).is_absolute():
        raise InvalidInput(
            f"{path!r} is not an absolute path: name the key folder from the root, e.g. "
            "/opt/neuronex/etc.",
            field="path",
        )


def _validate(target: ExportTarget) -> None:
    validate_target_path(target.path)
    profiles = [value for value, _ in PROFILE_CHOICES]
    if target.profile not in profiles:
        raise InvalidInput(
            f"profile must be one of {', '.join(profiles)}, not {target.profile!r}.",
            field="profile",
        )


def _snapshot(target: ExportTarget) -> dict:
    return {field: getattr(target, field) for field in EDITABLE_FIELDS}
