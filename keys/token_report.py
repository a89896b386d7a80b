"""The token expiry report: how many tokens each issuer has in each state, which expire soon,
which live longest, and week by week what expires next and what was minted and revoked.

Every figure family is one aggregate query (GROUP BY with conditional counts, weeks numbered by
the database: see WeeksSince), so the report costs the same six queries at a million tokens as
at ten; Python only arranges the grouped rows.

Windows follow keys.models.token and keys.selectors exactly, so that each figure equals the
token list its link opens:

- active: not revoked and ``exp > now``. A token with ``exp == now`` is expired.
- expiring within 7 (30) days: active and ``exp <= now + 7 days`` (30 days), so a token with
  ``exp == now + 7 days`` counts as expiring within 7 days.
- revoked but still accepted by NeuronEX: IssuedTokenQuerySet.revoked_still_accepted.
- signed by a retired key: active tokens whose key pair is not the issuer's active one.

Weeks are calendar weeks: Monday 00:00 UTC to the next Monday 00:00 UTC, a token belonging to
the week in which its ``exp`` (``iat``, ``revoked_at``) falls; one at Monday 00:00 exactly opens
that week. Calendar weeks, rather than 7-day steps from ``now``, so that a week has the same
label on every page and every day. The first upcoming week is the current one, holding only
what is still active (``exp > now``); the last of the past weeks is the current one so far.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from django.db.models import Count, Func, IntegerField, Q, Value

from keys import clock
from keys.models import IssuedToken, Issuer, KeyPair
from keys.selectors import exported_kids

WEEKS = 26
SOON = timedelta(days=7)
LATER = timedelta(days=30)
LONGEST_SHOWN = 10
WEEK = timedelta(weeks=1)
WEEK_SECONDS = 7 * 24 * 3600


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def week_start(instant: datetime) -> datetime:
    """Monday 00:00 UTC of the week ``instant`` falls in."""
    day = instant.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


class WeeksSince(Func):
    """Whole weeks from ``origin`` (a Monday 00:00 UTC) to a datetime column, counted by the
    database itself. Django's TruncWeek does the same through a Python function that SQLite
    calls for every row: measured at a million tokens, 3.4 s a chart there against 0.9 s.

    Callers filter the column to ``>= origin``, so integer division is the floor. Fractions of
    a second are cut off (SQLite stores UTC text, ``substr`` keeps whole seconds), so that a
    time just before a Monday never rounds up into the next week."""

    output_field = IntegerField()

    def __init__(self, column: str, origin: datetime):
        super().__init__(column)
        self.origin = int(origin.timestamp())

    def as_sql(self, compiler, connection, **extra_context):  # PostgreSQL
        column, params = compiler.compile(self.source_expressions[0])
        return (
            f"CAST(FLOOR((EXTRACT(EPOCH FROM {column}) - %s) / {WEEK_SECONDS}) AS INTEGER)",
            (*params, self.origin),
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        column, params = compiler.compile(self.source_expressions[0])
        return (
            f"((CAST(strftime('%%s', substr({column}, 1, 19)) AS INTEGER) - %s) / {WEEK_SECONDS})",
            (*params, self.origin),
        )


@dataclass(frozen=True)
class TokenFigures:
    active: int = 0
    expiring_7d: int = 0
    expiring_30d: int = 0
    expired: int = 0
    revoked: int = 0
    revoked_still_accepted: int = 0
    signed_by_retired_key: int = 0

    FIELDS = (
        "active",
        "expiring_7d",
        "expiring_30d",
        "expired",
        "revoked",
        "revoked_still_accepted",
        "signed_by_retired_key",
    )

    def __add__(self, other: "TokenFigures") -> "TokenFigures":
        return TokenFigures(
            **{name: getattr(self, name) + getattr(other, name) for name in self.FIELDS}
        )

    def as_dict(self) -> dict[str, int]:
        return {name: int(getattr(self, name)) for name in self.FIELDS}


@dataclass(frozen=True)
class IssuerFigures:
    issuer_id: int
    issuer: str
    figures: TokenFigures

    def as_dict(self) -> dict:
        return {"issuer": self.issuer, **self.figures.as_dict()}


@dataclass(frozen=True)
class LongLivedToken:
    pk: int  # for the admin's link; the API names a token by its jti
    jti: UUID
    issuer: str
    label: str
    exp: datetime
    remaining: timedelta

    def as_dict(self) -> dict:
        return {
            "jti": str(self.jti),
            "issuer": self.issuer,
            "label": self.label,
            "exp": iso(self.exp),
            "remaining_seconds": int(self.remaining.total_seconds()),
        }


@dataclass(frozen=True)
class ExpiryWeek:
    start: datetime
    by_issuer: dict[str, int] = field(default_factory=dict)  # only issuers with tokens

    @property
    def end(self) -> datetime:
        return self.start + WEEK

    @property
    def total(self) -> int:
        return sum(self.by_issuer.values())

    def as_dict(self) -> dict:
        return {
            "start": iso(self.start),
            "end": iso(self.end),
            "total": self.total,
            "by_issuer": {name: int(count) for name, count in self.by_issuer.items()},
        }


@dataclass(frozen=True)
class ActivityWeek:
    start: datetime
    minted: int = 0
    revoked: int = 0

    @property
    def end(self) -> datetime:
        return self.start + WEEK

    def as_dict(self) -> dict:
        return {
            "start": iso(self.start),
            "end": iso(self.end),
            "minted": int(self.minted),
            "revoked": int(self.revoked),
        }


@dataclass(frozen=True)
class TokenReport:
    now: datetime
    issuers: tuple[IssuerFigures, ...]
    total: TokenFigures
    longest: tuple[LongLivedToken, ...]
    upcoming: tuple[ExpiryWeek, ...]  # WEEKS weeks, the current one first
    activity: tuple[ActivityWeek, ...]  # WEEKS weeks, the current one last

    @property
    def upcoming_issuers(self) -> list[str]:
        """Issuers with a token in the upcoming weeks, most tokens first, then by name."""
        totals: dict[str, int] = {}
        for week in self.upcoming:
            for name, count in week.by_issuer.items():
                totals[name] = totals.get(name, 0) + count
        return sorted(totals, key=lambda name: (-totals[name], name))

    def as_dict(self) -> dict:
        return {
            "generated_at": iso(self.now),
            "issuers": [issuer.as_dict() for issuer in self.issuers],
            "total": self.total.as_dict(),
            "longest_remaining": [token.as_dict() for token in self.longest],
            "upcoming_expiries": [week.as_dict() for week in self.upcoming],
            "minted_revoked": [week.as_dict() for week in self.activity],
        }


def token_report(now: datetime | None = None) -> TokenReport:
    now = (now or clock.now()).astimezone(UTC)
    active = Q(tokens__revoked_at__isnull=True, tokens__exp__gt=now)
    # Every issuer, with or without tokens: a LEFT JOIN grouped by issuer.
    rows = (
        Issuer.objects.values("pk", "name")  # before annotate: GROUP BY only these
        .annotate(
            n_active=Count("tokens", filter=active),
            n_expiring_7d=Count("tokens", filter=active & Q(tokens__exp__lte=now + SOON)),
            n_expiring_30d=Count("tokens", filter=active & Q(tokens__exp__lte=now + LATER)),
            n_expired=Count(
                "tokens", filter=Q(tokens__revoked_at__isnull=True, tokens__exp__lte=now)
            ),
            n_revoked=Count("tokens", filter=Q(tokens__revoked_at__isnull=False)),
            n_retired=Count(
                "tokens", filter=active & Q(tokens__key_pair__status=KeyPair.Status.RETIRED)
            ),
        )
        .order_by("name")
        .values_list(
            "pk",
            "name",
            "n_active",
            "n_expiring_7d",
            "n_expiring_30d",
            "n_expired",
            "n_revoked",
            "n_retired",
        )
    )
    still_accepted = dict(
        IssuedToken.objects.revoked_still_accepted(exported_kids(), now)
        .values("issuer_id")
        .annotate(count=Count("id"))
        .order_by()
        .values_list("issuer_id", "count")
    )
    issuers = tuple(
        IssuerFigures(
            issuer_id=pk,
            issuer=name,
            figures=TokenFigures(
                active=n_active,
                expiring_7d=n_7d,
                expiring_30d=n_30d,
                expired=n_expired,
                revoked=n_revoked,
                revoked_still_accepted=still_accepted.get(pk, 0),
                signed_by_retired_key=n_retired,
            ),
        )
        for pk, name, n_active, n_7d, n_30d, n_expired, n_revoked, n_retired in rows
    )
    total = sum((issuer.figures for issuer in issuers), TokenFigures())
    names = {issuer.issuer_id: issuer.issuer for issuer in issuers}
    return TokenReport(
        now=now,
        issuers=issuers,
        total=total,
        longest=_longest(now),
        upcoming=_upcoming(now, names),
        activity=_activity(now),
    )


def _longest(now: datetime) -> tuple[LongLivedToken, ...]:
    rows = (
        IssuedToken.objects.active(now)
        .order_by("-exp", "-id")
        .values_list("pk", "jti", "issuer__name", "label", "exp")[:LONGEST_SHOWN]
    )
    return tuple(
        LongLivedToken(pk=pk, jti=jti, issuer=issuer, label=label, exp=exp, remaining=exp - now)
        for pk, jti, issuer, label, exp in rows
    )


def _upcoming(now: datetime, names: dict[int, str]) -> tuple[ExpiryWeek, ...]:
    first = week_start(now)
    counts: list[dict[str, int]] = [{} for _ in range(WEEKS)]
    rows = (
        IssuedToken.objects.active(now)
        .filter(exp__lt=first + WEEKS * WEEK)
        .annotate(week=WeeksSince("exp", first))
        .values("week", "issuer_id")
        .annotate(count=Count("id"))
        .order_by()
        .values_list("week", "issuer_id", "count")
    )
    for week, issuer_id, count in rows:
        # An issuer created since the issuers' query ran has no name here yet: say which it is.
        counts[week][names.get(issuer_id, f"issuer #{issuer_id}")] = count
    return tuple(
        ExpiryWeek(start=first + index * WEEK, by_issuer=dict(sorted(by_issuer.items())))
        for index, by_issuer in enumerate(counts)
    )


def _activity(now: datetime) -> tuple[ActivityWeek, ...]:
    first = week_start(now) - (WEEKS - 1) * WEEK
    end = week_start(now) + WEEK

    def per_week(kind: str, column: str):
        return (
            IssuedToken.objects.filter(**{f"{column}__gte": first, f"{column}__lt": end})
            .annotate(kind=Value(kind), week=WeeksSince(column, first))
            .values("kind", "week")
            .annotate(count=Count("id"))
            .order_by()
            .values_list("kind", "week", "count")
        )

    # Two GROUP BYs on different columns, sent as one statement.
    rows = per_week("minted", "iat").union(per_week("revoked", "revoked_at"), all=True)
    counts = [{"minted": 0, "revoked": 0} for _ in range(WEEKS)]
    for kind, week, count in rows:
        counts[week][kind] = count
    return tuple(
        ActivityWeek(start=first + index * WEEK, **week_counts)
        for index, week_counts in enumerate(counts)
    )
