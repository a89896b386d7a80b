from datetime import timedelta

from django.conf import settings
from django.db import transaction

from keys.durations import format_duration
from keys.errors import Conflict, InvalidInput
from keys.models import Issuer
from keys.neuronex.names import prefix_conflict_message, prefix_conflicts, validate_name
from keys.neuronex.profiles import AUDIENCES, ISS_FILENAME, ISS_STYLE_CHOICES
from keys.services.actor import Actor
from keys.services.audit import audit_record
from keys.services.changes import apply_changes
from keys.services.exports import schedule_auto_export
from keys.services.locks import serialize

NAMES_LOCK = "keys.issuer-names"
EDITABLE_FIELDS = ("iss_style", "audience", "default_ttl", "max_ttl", "description", "is_active")


def issuer_create(
    *,
    actor: Actor,
    name: str,
    iss_style: str = ISS_FILENAME,
    audience: str | None = None,
    default_ttl: timedelta | None = None,
    max_ttl: timedelta | None = None,
    description: str = "",
) -> Issuer:
    max_ttl = max_ttl if max_ttl is not None else settings.PORTAL_MAX_TOKEN_TTL
    if default_ttl is None:
        default_ttl = min(settings.PORTAL_DEFAULT_TOKEN_TTL, max_ttl)
    issuer = Issuer(
        name=name,
        iss_style=iss_style,
        audience=audience if audience is not None else settings.PORTAL_DEFAULT_AUDIENCE,
        default_ttl=default_ttl,
        max_ttl=max_ttl,
        description=description,
        created_by=actor.user,
    )
    _validate_settings(issuer)
    with transaction.atomic():
        # Prefix-freedom spans rows, so no constraint can hold it: serialise the check instead.
        serialize(NAMES_LOCK)
        issuer_check_new_name(name)
        issuer.save(force_insert=True)
        audit_record(actor=actor, action="issuer.create", target=issuer, details=_snapshot(issuer))
    return issuer


def issuer_check_new_name(name: str) -> None:
    """Raise unless ``name`` is valid and free: not taken, and prefix-free against every issuer
    (disabled ones too: their files and tokens may still be around)."""
    validate_name(name)
    existing = list(Issuer.objects.values_list("name", flat=True))
    if name in existing:
        raise Conflict(f"An issuer named {name!r} exists already.", field="name")
    conflicts = prefix_conflicts(name, existing)
    if conflicts:
        raise InvalidInput(prefix_conflict_message(name, conflicts), field="name")


def issuer_update(*, actor: Actor, issuer: Issuer, **changes) -> Issuer:
    """Change an issuer's settings. The name is fixed: it is the key file and the `iss` that
    every token already minted carries."""
    with transaction.atomic():
        issuer = Issuer.objects.select_for_update().get(pk=issuer.pk)
        changed = apply_changes(
            issuer,
            changes,
            editable=EDITABLE_FIELDS,
            snapshot=_snapshot,
            validate=_validate_settings,
        )
        if not changed:
            return issuer
        issuer.save(update_fields=list(changes))
        action = "issuer.update"
        if changed.keys() == {"is_active"}:
            action = "issuer.enable" if issuer.is_active else "issuer.disable"
        audit_record(actor=actor, action=action, target=issuer, details={"changed": changed})
        if "is_active" in changed:
            schedule_auto_export(actor)
    return issuer


def issuer_disable(*, actor: Actor, issuer: Issuer) -> Issuer:
    return issuer_update(actor=actor, issuer=issuer, is_active=False)


def _validate_settings(issuer: Issuer) -> None:
    styles = [value for value, _ in ISS_STYLE_CHOICES]
    if issuer.iss_style not in styles:
        raise InvalidInput(
            f"iss style must be one of {', '.join(styles)}, not {issuer.iss_style!r}.",
            field="iss_style",
        )
    if issuer.audience not in AUDIENCES:
        raise InvalidInput(
            f"audience must be one of {', '.join(AUDIENCES)} (case-sensitive), "
            f"not {issuer.audience!r}.",
            field="audience",
        )
    if issuer.max_ttl <= timedelta(0):
        raise InvalidInput("The maximum lifetime must be positive.", field="max_ttl")
    if not timedelta(0) < issuer.default_ttl <= issuer.max_ttl:
        raise InvalidInput(
            f"The default lifetime must be positive and at most the maximum lifetime "
            f"({format_duration(issuer.max_ttl)}).",
            field="default_ttl",
        )


def _snapshot(issuer: Issuer) -> dict:
    return {
        "iss": issuer.iss,
        "iss_style": issuer.iss_style,
        "audience": issuer.audience,
        "default_ttl": format_duration(issuer.default_ttl),
        "max_ttl": format_duration(issuer.max_ttl),
        "description": issuer.description,
        "is_active": issuer.is_active,
    }
