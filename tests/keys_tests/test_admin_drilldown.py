"""The token list's date drill-down asks for its range and its periods with index probes instead
of Django's MIN/MAX and DISTINCT over every row; it must give exactly what Django's own queries
give."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Count, Max, Min
from django.db.models.query import QuerySet
from django.test.utils import CaptureQueriesContext

from keys.admin.tokens import DrillDownQuerySet
from keys.models import IssuedToken
from tests.keys_tests.test_token_report import token_row

pytestmark = pytest.mark.django_db

EXPIRIES = [
    datetime(2026, 1, 1, 0, 0, tzinfo=UTC),  # the first instant of a year, month and day
    datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 3, 15, 12, 0, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime(2028, 2, 29, 6, 0, tzinfo=UTC),  # a year with none in between
]


@pytest.fixture
def tokens(issuer, key_pair):
    IssuedToken.objects.bulk_create(
        token_row(issuer, key_pair, iat=exp - timedelta(days=1), exp=exp) for exp in EXPIRIES
    )


def drill_down(queryset) -> DrillDownQuerySet:
    queryset = queryset._chain()
    queryset.__class__ = DrillDownQuerySet
    return queryset


@pytest.mark.parametrize("kind", ["year", "month", "day"])
@pytest.mark.parametrize(
    "narrowed",
    [{}, {"exp__year": 2026}, {"exp__year": 2026, "exp__month": 1}, {"revoked_at__isnull": False}],
    ids=["all", "2026", "2026-01", "none"],
)
def test_the_same_periods_as_djangos_query(tokens, kind, narrowed):
    selected = IssuedToken.objects.filter(**narrowed)
    expected = list(QuerySet.datetimes(selected, "exp", kind))
    assert list(drill_down(selected).datetimes("exp", kind)) == expected
    if narrowed.get("revoked_at__isnull") is not False:
        assert expected, "the fixture's tokens must give periods to compare"


@pytest.mark.parametrize(
    "narrowed",
    [{}, {"exp__year": 2026, "exp__month": 1}, {"revoked_at__isnull": False}],
    ids=["all", "2026-01", "none"],
)
def test_the_same_range_as_djangos_aggregate(tokens, narrowed):
    """The drill-down's first question, ``aggregate(first=Min, last=Max)``, answered by two
    index lookups: the same values, None for an empty selection."""
    selected = IssuedToken.objects.filter(**narrowed)
    asked = {"first": Min("exp"), "last": Max("exp")}
    expected = QuerySet.aggregate(selected, **asked)
    with CaptureQueriesContext(connection) as captured:
        assert drill_down(selected).aggregate(**asked) == expected
    assert not any("MIN(" in query["sql"].upper() for query in captured.captured_queries)


def test_other_aggregates_are_djangos(tokens):
    selected = drill_down(IssuedToken.objects.all())
    assert selected.aggregate(first=Min("iat"), last=Max("exp")) == {
        "first": EXPIRIES[0] - timedelta(days=1),
        "last": EXPIRIES[-1],
    }
    assert selected.aggregate(n=Count("id")) == {"n": len(EXPIRIES)}


def test_the_range_and_the_periods_share_two_lookups(tokens):
    selected = drill_down(IssuedToken.objects.all())
    with CaptureQueriesContext(connection) as captured:
        selected.aggregate(first=Min("exp"), last=Max("exp"))
        selected.datetimes("exp", "year")
    assert len(captured) == 3  # first, last, and one statement of EXISTS probes
