"""The token expiry report: how many tokens each issuer has in each state, which expire soon,
which live longest, and week by week what expires next and what was minted and revoked.

Every figure is a count of one index range (keys.counting): the per-issuer figures and upcoming
weeks in one statement, the past weeks in another, so the report costs the same four queries at
a million tokens as at ten, and reads only the index entries it counts.

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

from django.db.models import OuterRef

from keys import clock
from keys.counting import count_of, counted, select_scalars
from keys.models import IssuedToken, Issuer, KeyPair
from keys.selectors import exported_kids

WEEKS = 26
SOON = timedelta(days=7)
LATER = timedelta(days=30)
LONGEST_SHOWN = 10
WEEK = timedelta(weeks=1)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def week_start(instant: datetime) -> datetime:
    """Monday 00:00 UTC of the week ``instant`` falls in."""
    day = instant.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


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
    rows = _issuer_rows(now)
    issuers = tuple(
        IssuerFigures(issuer_id=row["pk"], issuer=row["name"], figures=_figures(row))
        for row in rows
    )
    first = week_start(now)
    upcoming = tuple(
        ExpiryWeek(
            start=first + index * WEEK,
            by_issuer={row["name"]: row[f"week_{index}"] for row in rows if row[f"week_{index}"]},
        )
        for index in range(WEEKS)
    )
    return TokenReport(
        now=now,
        issuers=issuers,
        total=sum((issuer.figures for issuer in issuers), TokenFigures()),
        longest=_longest(now),
        upcoming=upcoming,
        activity=_activity(now),
    )


def _figures(row: dict) -> TokenFigures:
    # The weeks and what lies after them partition the active tokens; each token is exactly
    # one of active, expired and revoked (token_status).
    active = row["after_the_weeks"] + sum(row[f"week_{index}"] for index in range(WEEKS))
    return TokenFigures(
        active=active,
        expiring_7d=row["expiring_7d"],
        expiring_30d=row["expiring_30d"],
        expired=row["total"] - row["revoked"] - active,
        revoked=row["revoked"],
        revoked_still_accepted=row["revoked_still_accepted"],
        signed_by_retired_key=row["signed_by_retired_key"],
    )


def _issuer_rows(now: datetime) -> list[dict]:
    """Per issuer, in one statement: the counts of its figures and of its upcoming weeks, each
    a range of the (issuer, revoked_at, exp, key_pair) index (see keys.counting). Every index
    entry is read about once: the active tokens are counted week by week (and after the last
    week), not a second time as a whole."""
    mine = IssuedToken.objects.filter(issuer=OuterRef("pk"))
    active = mine.active(now)
    first = week_start(now)
    columns = {
        # All of them rather than the expired ones: the foreign key's narrow index counts a
        # million entries faster than the wide one counts 700,000 (PostgreSQL 49 ms vs 107).
        "total": mine,
        "revoked": mine.revoked(),
        "expiring_7d": active.filter(exp__lte=now + SOON),
        "expiring_30d": active.filter(exp__lte=now + LATER),
        "revoked_still_accepted": mine.revoked_still_accepted(exported_kids(), now),
        # Through the issuer's retired keys and the token_key_state index: only the few
        # active tokens each retired key still has are read.
        "signed_by_retired_key": IssuedToken.objects.active(now).filter(
            key_pair__in=KeyPair.objects.filter(
                issuer=OuterRef(OuterRef("pk")), status=KeyPair.Status.RETIRED
            )
        ),
        # The current week holds what is still active of it.
        "week_0": active.filter(exp__lt=first + WEEK),
    }
    for index in range(1, WEEKS):
        # Later weeks lie wholly after now: active is "not revoked" there. Without the
        # redundant exp > now, which SQLite would take as the range's start and scan from.
        start = first + index * WEEK
        columns[f"week_{index}"] = mine.filter(
            revoked_at__isnull=True, exp__gte=start, exp__lt=start + WEEK
        )
    columns["after_the_weeks"] = mine.filter(revoked_at__isnull=True, exp__gte=first + WEEKS * WEEK)
    return list(
        Issuer.objects.order_by("name")
        .annotate(**{name: counted(tokens) for name, tokens in columns.items()})
        .values("pk", "name", *columns)
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


def _activity(now: datetime) -> tuple[ActivityWeek, ...]:
    """Minted and revoked per past week: two range counts a week, on the iat index and the
    partial revoked_at index, in one statement."""
    first = week_start(now) - (WEEKS - 1) * WEEK
    starts = [first + index * WEEK for index in range(WEEKS)]
    tokens = IssuedToken.objects.all()
    counts = select_scalars(
        [
            count_of(tokens.filter(**{f"{column}__gte": start, f"{column}__lt": start + WEEK}))
            for start in starts
            for column in ("iat", "revoked_at")
        ]
    )
    return tuple(
        ActivityWeek(start=start, minted=counts[2 * index], revoked=counts[2 * index + 1])
        for index, start in enumerate(starts)
    )
