"""Expiry alerts: one mail listing the active tokens that have come within an alert threshold
of their expiry, each token once per threshold (an ExpiryAlert row remembers it)."""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction

from keys import clock
from keys.durations import DurationError, format_duration, parse_duration
from keys.errors import InvalidInput, PortalError
from keys.models import ExpiryAlert, IssuedToken
from keys.services.actor import Actor
from keys.services.audit import audit_record

# ExpiryAlert.threshold is a 32-bit count of seconds; no token lives anywhere near this long.
MAX_THRESHOLD = timedelta(days=3650)


class AlertNotSent(PortalError):
    code = "alert_not_sent"


def parse_thresholds(values: list[str]) -> list[timedelta]:
    """PORTAL_ALERT_THRESHOLDS as timedeltas, tightest first."""
    if not values:
        raise InvalidInput("no threshold is given.")
    thresholds: list[timedelta] = []
    for value in values:
        try:
            threshold = parse_duration(value)
        except DurationError as exc:
            raise InvalidInput(str(exc)) from None
        if threshold > MAX_THRESHOLD:
            raise InvalidInput(f"{value!r} is longer than {format_duration(MAX_THRESHOLD)}.")
        if threshold in thresholds:
            raise InvalidInput(f"{value!r} repeats the threshold {format_duration(threshold)}.")
        thresholds.append(threshold)
    return sorted(thresholds)


@dataclass(frozen=True)
class DueAlert:
    token: IssuedToken
    threshold: timedelta
    """The tightest threshold the token has crossed: the digest lists it under this one."""
    record: tuple[int, ...]
    """Every crossed threshold not alerted yet, in seconds: a token first seen 5 days before
    its expiry is mailed once, under 7d, and never again for 30d."""


@dataclass(frozen=True)
class AlertRun:
    recipients: tuple[str, ...]
    due: tuple[DueAlert, ...]
    sent: bool


def alerts_due(thresholds: list[timedelta], now: datetime | None = None) -> list[DueAlert]:
    """Active tokens whose tightest crossed threshold has not been alerted, soonest first.

    A token already mailed under a tighter threshold is not mailed again for a looser one
    (which happens only when the thresholds change)."""
    now = now or clock.now()
    candidates = IssuedToken.objects.active(now).filter(exp__lte=now + thresholds[-1])
    sent: dict[int, set[int]] = defaultdict(set)
    for token_id, threshold in ExpiryAlert.objects.filter(
        token__in=candidates.values("id")
    ).values_list("token_id", "threshold"):
        sent[token_id].add(threshold)
    due = []
    for token in candidates.select_related("issuer").order_by("exp", "id"):
        crossed = [t for t in thresholds if token.exp - now <= t]
        if _seconds(crossed[0]) in sent[token.pk]:
            continue
        record = tuple(_seconds(t) for t in crossed if _seconds(t) not in sent[token.pk])
        due.append(DueAlert(token=token, threshold=crossed[0], record=record))
    return due


def expiry_alerts_send(*, actor: Actor, now: datetime | None = None) -> AlertRun:
    """Mail the due alerts to PORTAL_ALERT_EMAILS as one digest, then record them.

    The mail goes out before any row is written and outside a transaction: a failed send
    records nothing (the next run retries), and a slow mail server never holds the database's
    write lock, which on SQLite would stall every mint. Run it from one scheduler only: two
    overlapping runs could both mail a token before either records it."""
    recipients = tuple(settings.PORTAL_ALERT_EMAILS)
    if not recipients:
        return AlertRun(recipients=(), due=(), sent=False)
    try:
        thresholds = parse_thresholds(settings.PORTAL_ALERT_THRESHOLDS)
    except InvalidInput as exc:
        raise InvalidInput(f"PORTAL_ALERT_THRESHOLDS: {exc}") from None
    now = now or clock.now()
    due = tuple(alerts_due(thresholds, now))
    if not due:
        return AlertRun(recipients=recipients, due=(), sent=False)
    subject, body = digest(due, thresholds, now)
    message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, list(recipients))
    try:
        message.send(fail_silently=False)
    # smtplib's and socket's errors are OSErrors; a malformed address or mail setting is a
    # ValueError.
    except (OSError, ValueError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise AlertNotSent(
            f"Could not mail the expiry alerts to {', '.join(recipients)}: {reason}. "
            "Nothing was recorded: the next run tries again."
        ) from exc
    sent_at = clock.now()
    with transaction.atomic():
        # ignore_conflicts: should another run have recorded the same alert meanwhile, the
        # mail has gone out all the same and this run must not fail over it.
        ExpiryAlert.objects.bulk_create(
            [
                ExpiryAlert(token=alert.token, threshold=seconds, sent_at=sent_at)
                for alert in due
                for seconds in alert.record
            ],
            ignore_conflicts=True,
        )
        audit_record(
            actor=actor,
            action="alerts.send",
            details={
                "recipients": list(recipients),
                "tokens": len(due),
                "alerts": sum(len(alert.record) for alert in due),
                "by_threshold": dict(Counter(format_duration(alert.threshold) for alert in due)),
                "by_issuer": dict(Counter(alert.token.issuer.name for alert in due)),
            },
        )
    return AlertRun(recipients=recipients, due=due, sent=True)


def digest(
    due: tuple[DueAlert, ...], thresholds: list[timedelta], now: datetime
) -> tuple[str, str]:
    """The subject and plain-text body: tightest threshold first, then by issuer."""
    groups: dict[timedelta, dict[str, list[IssuedToken]]] = {}
    for alert in due:
        by_issuer = groups.setdefault(alert.threshold, {})
        by_issuer.setdefault(alert.token.issuer.name, []).append(alert.token)
    soonest = min(alert.token.exp for alert in due)
    subject = (
        f"NeuronEX Token Portal: {len(due)} token(s) expire soon, the first in "
        f"{remaining(soonest - now)}"
    )
    lines = [
        f"{len(due)} active token(s) have come within an alert threshold of their expiry "
        f"(thresholds: {', '.join(format_duration(t) for t in reversed(thresholds))}).",
        "Each token is mailed once per threshold.",
    ]
    for threshold in sorted(groups):
        heading = f"Expiring within {format_duration(threshold)}"
        lines += ["", heading, "=" * len(heading)]
        for issuer_name in sorted(groups[threshold]):
            lines += ["", f"Issuer {issuer_name}:"]
            for token in groups[threshold][issuer_name]:
                lines += [
                    f"  - {token.label}",
                    f"    jti:       {token.jti}",
                    f"    issuer:    {issuer_name}",
                    f"    expires:   {token.exp:%Y-%m-%d %H:%M:%S} UTC",
                    f"    remaining: {remaining(token.exp - now)}",
                ]
    lines += [
        "",
        "NeuronEX refuses a token once it has expired. Mint a replacement "
        "(manage.py mint_token ISSUER --label TEXT, or the portal) and hand it to the "
        "integration before then.",
    ]
    return subject, "\n".join(lines) + "\n"


def remaining(delta: timedelta) -> str:
    """Rounded down to what matters at that distance: days and hours, or hours and minutes."""
    seconds = max(int(delta.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m" if minutes else "less than a minute"


def _seconds(value: timedelta) -> int:
    return int(value.total_seconds())
