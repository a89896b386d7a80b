"""Reads that are more than a filter."""

import uuid
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Q, QuerySet

from keys import clock
from keys.counting import count_of, select_scalars
from keys.errors import InvalidInput, NotFound
from keys.models import IssuedToken, Issuer, KeyPair
from keys.models.token import TokenStatus
from keys.neuronex.revocation import still_accepted_until


def issuer_get(name: str) -> Issuer:
    try:
        return Issuer.objects.get(name=name)
    except Issuer.DoesNotExist:
        raise NotFound(f"No issuer is named {name!r}.", field="issuer") from None


def issuer_active_key(issuer: Issuer) -> KeyPair:
    key_pair = (
        KeyPair.objects.filter(issuer=issuer, status=KeyPair.Status.ACTIVE)
        .defer("private_key_encrypted")
        .first()
    )
    if key_pair is None:
        raise NotFound(f"Issuer {issuer.name!r} has no active key pair.", field="issuer")
    return key_pair


def target_get(name: str):
    from keys.models import ExportTarget

    try:
        return ExportTarget.objects.get(name=name)
    except ExportTarget.DoesNotExist:
        raise NotFound(f"No export target is named {name!r}.", field="target") from None


def token_get(jti: str) -> IssuedToken:
    try:
        value = uuid.UUID(str(jti))
    except ValueError:
        raise InvalidInput(f"{jti!r} is not a token id (a UUID).", field="jti") from None
    try:
        return IssuedToken.objects.select_related("issuer", "key_pair").get(jti=value)
    except IssuedToken.DoesNotExist:
        raise NotFound(f"No token has the id {value}.", field="jti") from None


def exported_kids() -> set[str]:
    """The keys whose public half the portal has written into some target's folder."""
    from keys.models import ExportedFile

    return set(ExportedFile.objects.values_list("kid", flat=True))


def token_accepted_until(
    token: IssuedToken, now: datetime | None = None, exported: set[str] | None = None
) -> datetime | None:
    """For a revoked token: until when NeuronEX would still accept it (rule 6), else None.

    Its key counts as still in force while it is the issuer's active key or its file is still
    in an export folder. Listings pass ``exported`` (from exported_kids) to avoid a query per
    token."""
    kid = token.key_pair.kid
    if exported is None:
        from keys.models import ExportedFile

        exported = set(ExportedFile.objects.filter(kid=kid).values_list("kid", flat=True))
    return still_accepted_until(
        revoked=token.revoked_at is not None,
        exp=token.exp,
        key_active=key_in_force(kid, token.key_pair.status, exported),
        now=now or clock.now(),
    )


def key_in_force(kid: str, status: str, exported: set[str]) -> bool:
    """Whether a verifier can still check signatures of this key: it is the issuer's active
    key, or its file is still in an export folder."""
    return status == KeyPair.Status.ACTIVE or kid in exported


def token_list(
    *,
    issuer: Issuer | None = None,
    status: str | None = None,
    expiring_within: timedelta | None = None,
    now: datetime | None = None,
) -> QuerySet[IssuedToken]:
    """Tokens with their status annotated, soonest expiry first, filtered in the database."""
    now = now or clock.now()
    tokens = IssuedToken.objects.select_related("issuer", "key_pair")
    if issuer is not None:
        tokens = tokens.filter(issuer=issuer)
    if status:
        if status not in TokenStatus.values:
            raise InvalidInput(
                f"status must be one of {', '.join(TokenStatus.values)}, not {status!r}.",
                field="status",
            )
        tokens = tokens.with_status(status, now)
    if expiring_within is not None:
        tokens = tokens.expiring_within(expiring_within, now)
    return tokens.annotate_status(now).order_by("exp", "id")


def token_count_stopped_by_rotation(issuer: Issuer, now: datetime | None = None) -> int:
    """Unexpired, unrevoked tokens signed by the issuer's active key: NeuronEX stops accepting
    them once a rotated key is exported."""
    return (
        IssuedToken.objects.active(now or clock.now())
        .filter(issuer=issuer, key_pair__status=KeyPair.Status.ACTIVE)
        .count()
    )


def issuer_export_warnings(issuer: Issuer, kid: str) -> list[str]:
    """Why an enabled target that takes this issuer may not have its key ``kid`` yet: a token
    signed with it is refused there until it does.

    Plain SQL because every mint asks: the ORM took 1.3 ms for this, the query 0.3 ms.
    """
    from keys.models import ExportedFile, ExportTarget

    targets = ExportTarget._meta.db_table
    files = ExportedFile._meta.db_table
    listed = ExportTarget.issuers.through._meta.db_table
    sql = (
        f"SELECT t.name, t.last_export_ok, t.last_export_result, EXISTS ("  # noqa: S608
        f"  SELECT 1 FROM {files} f"
        "   WHERE f.target_id = t.id AND f.file_name = %s AND f.kid = %s)"
        f" FROM {targets} t WHERE t.enabled AND ("
        f"  NOT EXISTS (SELECT 1 FROM {listed} l WHERE l.exporttarget_id = t.id)"
        f"  OR EXISTS (SELECT 1 FROM {listed} l"
        "             WHERE l.exporttarget_id = t.id AND l.issuer_id = %s))"
        " ORDER BY t.name"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [issuer.key_file_name, kid, issuer.pk])
        rows = cursor.fetchall()
    warnings = []
    for name, last_ok, last_result, has_key in rows:
        if last_ok is not None and not last_ok:
            warnings.append(
                f"Export target {name!r} is out of sync (last export: {last_result}): this "
                "token may be refused there."
            )
        elif not has_key:
            warnings.append(
                f"Export target {name!r} does not have {issuer.key_file_name} with the "
                "current key yet: run export_keys, or this token is refused there."
            )
    return warnings


def issuer_token_counts(issuer: Issuer, now: datetime | None = None) -> dict[str, int]:
    now = now or clock.now()
    tokens = IssuedToken.objects.filter(issuer=issuer)
    total, revoked, active = select_scalars(
        [count_of(tokens), count_of(tokens.revoked()), count_of(tokens.active(now))]
    )
    # Each token is exactly one of revoked, expired or active (token_status); counting the
    # expired ones directly would read most of the issuer's index.
    return {"active": active, "expired": total - revoked - active, "revoked": revoked}


def issuer_export_state(issuer: Issuer) -> list[dict]:
    """Per enabled target that takes the issuer: does its folder have the active key?"""
    from keys.models import ExportedFile, ExportTarget

    active = (
        KeyPair.objects.filter(issuer=issuer, status=KeyPair.Status.ACTIVE)
        .values_list("kid", flat=True)
        .first()
    )
    targets = (
        ExportTarget.objects.filter(enabled=True)
        .filter(Q(issuers=None) | Q(issuers=issuer))
        .distinct()
        .order_by("name")
    )
    files = {
        record.target_id: record
        for record in ExportedFile.objects.filter(file_name=issuer.key_file_name)
    }
    state = []
    for target in targets:
        record = files.get(target.pk)
        if active is None:
            text = "no active key" + (": the old file is still there" if record else "")
            in_sync = record is None
        elif record is None:
            text, in_sync = "not exported yet", False
        elif record.kid != active:
            text, in_sync = f"holds the old key {record.kid}", False
        else:
            text, in_sync = f"current (written {record.written_at:%Y-%m-%d %H:%M})", True
        if target.last_export_ok is False:
            text += f"; last export failed: {target.last_export_result}"
            in_sync = False
        state.append({"target": target, "text": text, "in_sync": in_sync})
    return state


# Query strings of the token list's filters (keys/admin/tokens.py), for links into it.
TOKEN_LIST_FILTERS = {
    "active": "status=active",
    "expiring_7": "expires_within=7d",
    "expiring_30": "expires_within=30d",
    "still_accepted": "status=still_accepted",
}


def dashboard_figures(now: datetime | None = None) -> list[dict]:
    """The landing page's figures, each with a link to the list that shows them."""
    from django.urls import reverse

    from keys.models import ExportTarget
    from keys.services.exports import target_check

    now = now or clock.now()
    tokens = IssuedToken.objects.all()
    # Four index range counts in one statement, rather than one pass over every token.
    counts = dict(
        zip(
            ("active", "expiring_7", "expiring_30", "still_accepted"),
            select_scalars(
                [
                    count_of(tokens.active(now)),
                    count_of(tokens.expiring_within(timedelta(days=7), now)),
                    count_of(tokens.expiring_within(timedelta(days=30), now)),
                    count_of(tokens.revoked_still_accepted(exported_kids(), now)),
                ]
            ),
            strict=True,
        )
    )
    token_list_url = reverse("admin:keys_issuedtoken_changelist")
    figures = [
        {"label": label, "count": counts[key], "url": f"{token_list_url}?{TOKEN_LIST_FILTERS[key]}"}
        for key, label in (
            ("active", "Active tokens"),
            ("expiring_7", "Expiring within 7 days"),
            ("expiring_30", "Expiring within 30 days"),
            ("still_accepted", "Revoked but still accepted by NeuronEX"),
        )
    ]
    out_of_sync = [
        target
        for target in ExportTarget.objects.filter(enabled=True)
        if target.last_export_ok is False
        or any(finding.severity == "error" for finding in target_check(target))
    ]
    figures.append(
        {
            "label": "Export targets out of sync",
            "count": len(out_of_sync),
            "url": reverse("admin:keys_exporttarget_changelist"),
        }
    )
    return figures


def jwks_key_pairs(now: datetime | None = None):
    """Active key pairs, and retired ones while tokens they signed are unexpired."""
    now = now or clock.now()
    live = IssuedToken.objects.filter(exp__gt=now, revoked_at__isnull=True).values("key_pair_id")
    return (
        KeyPair.objects.filter(Q(status=KeyPair.Status.ACTIVE) | Q(pk__in=live))
        .defer("private_key_encrypted")
        .order_by("issuer__name", "-created_at")
    )


def audit_event_list(*, action: str | None = None, actor: str | None = None):
    """Audit events, newest first, filtered as the API's list and export take them."""
    from keys.models import AuditEvent

    events = AuditEvent.objects.order_by("-seq")
    if action:
        events = events.filter(action=action)
    if actor:
        events = events.filter(actor_name=actor)
    return events
