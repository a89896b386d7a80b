"""The token expiry report (keys/token_report.py): its figures against hand-built tokens at the
window edges and week boundaries, its cost in queries, and its JSON through the REST API."""

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from keys import clock, roles
from keys.models import ExportTarget, IssuedToken, KeyPair
from keys.services.actor import Actor
from keys.services.api_tokens import api_token_create
from keys.services.exports import export_target
from keys.services.issuers import issuer_create
from keys.services.keypairs import keypair_generate, keypair_rotate
from keys.services.tokens import token_mint, token_revoke
from keys.token_report import WEEKS, TokenFigures, token_report, week_start
from tests.api_client import API, client_for

pytestmark = pytest.mark.django_db

# The `now` fixture: Monday 2026-06-01 12:00 UTC, so the current week began 12 hours earlier.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
MONDAY = datetime(2026, 6, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)
WEEK = timedelta(weeks=1)


def build_report_tokens(cli_actor, now) -> dict[str, IssuedToken]:
    """Three issuers; plant-a's key rotated nine days ago; tokens by label, each placed on an
    edge: see the expected figures in the tests below."""
    assert now == NOW
    plant_a = issuer_create(actor=cli_actor, name="plant-a")
    keypair_generate(actor=cli_actor, issuer=plant_a)
    plant_b = issuer_create(actor=cli_actor, name="plant-b")
    keypair_generate(actor=cli_actor, issuer=plant_b)
    made: dict[str, IssuedToken] = {}

    def mint(issuer, label, *, at, exp):
        with clock.frozen_at(at):
            made[label] = token_mint(
                actor=cli_actor, issuer=issuer, label=label, expires_at=exp
            ).record

    def revoke(label, *, at):
        with clock.frozen_at(at):
            made[label] = token_revoke(actor=cli_actor, token=made[label], reason="test")

    # On plant-a's first key, which is rotated and replaced in the folder nine days ago.
    mint(plant_a, "a old active", at=now - 10 * DAY, exp=now + 50 * DAY)
    mint(plant_a, "a old revoked", at=now - 10 * DAY, exp=now + 50 * DAY)
    revoke("a old revoked", at=now - 10 * DAY)
    mint(plant_a, "a old expired", at=now - 10 * DAY, exp=now - 5 * DAY)
    with clock.frozen_at(now - 9 * DAY):
        keypair_rotate(actor=cli_actor, issuer=plant_a)
        export_target(actor=cli_actor, target=ExportTarget.objects.get(name="default"))

    mint(plant_a, "a exp now", at=now - DAY, exp=now)
    mint(plant_a, "a exp 7d", at=now, exp=now + 7 * DAY)
    mint(plant_a, "a exp 7d+1s", at=now, exp=now + 7 * DAY + SECOND)
    mint(plant_a, "a exp 30d", at=now, exp=now + 30 * DAY)
    mint(plant_a, "a exp 30d+1s", at=now, exp=now + 30 * DAY + SECOND)
    mint(plant_a, "a week 0 last second", at=now, exp=MONDAY + WEEK - SECOND)
    mint(plant_a, "a week 1 first second", at=now, exp=MONDAY + WEEK)
    mint(plant_a, "a week 25 last second", at=now, exp=MONDAY + WEEKS * WEEK - SECOND)
    mint(plant_a, "a after the weeks", at=now, exp=MONDAY + WEEKS * WEEK)
    mint(plant_a, "a longest", at=now, exp=now + 300 * DAY)
    mint(plant_a, "a revoked accepted", at=now, exp=now + 40 * DAY)
    revoke("a revoked accepted", at=now)

    mint(plant_b, "b in 3d", at=now, exp=now + 3 * DAY)
    mint(plant_b, "b revoked accepted", at=now, exp=now + 20 * DAY)
    revoke("b revoked accepted", at=now)
    mint(plant_b, "b expired", at=now - 3 * DAY, exp=now - DAY)
    first_past_week = MONDAY - (WEEKS - 1) * WEEK  # 2025-12-08
    mint(plant_b, "b minted first past week", at=first_past_week, exp=first_past_week + DAY)
    mint(plant_b, "b minted before", at=first_past_week - SECOND, exp=first_past_week + DAY)
    mint(plant_b, "b minted this monday", at=MONDAY, exp=MONDAY + 100 * DAY)
    mint(plant_b, "b minted last sunday", at=MONDAY - SECOND, exp=MONDAY - SECOND + DAY)

    issuer_create(actor=cli_actor, name="plant-c")  # no key, no tokens
    return made


@pytest.fixture
def report_tokens(cli_actor, now):
    return build_report_tokens(cli_actor, now)


FIGURES = {
    "plant-a": {
        # Ten active: the old-key one and every "a exp/week/after/longest" token.
        "active": 10,
        # now + 7d exactly is within 7 days; one second later is not; exp == now is expired.
        "expiring_7d": 3,  # a exp 7d, a week 0 last second, a week 1 first second
        "expiring_30d": 5,  # and a exp 7d+1s, a exp 30d
        "expired": 2,  # a old expired, a exp now
        "revoked": 2,
        # The old key is neither active nor in the folder any more: only the new-key one.
        "revoked_still_accepted": 1,
        "signed_by_retired_key": 1,  # a old active; a old expired is not active
    },
    "plant-b": {
        "active": 3,  # b in 3d, b minted this monday, b minted last sunday
        "expiring_7d": 2,  # b in 3d, b minted last sunday (exp today 23:59:59)
        "expiring_30d": 2,
        "expired": 3,  # b expired, b minted first past week, b minted before
        "revoked": 1,
        "revoked_still_accepted": 1,
        "signed_by_retired_key": 0,
    },
    "plant-c": dict.fromkeys(TokenFigures.FIELDS, 0),
}
TOTAL = {name: sum(figures[name] for figures in FIGURES.values()) for name in FIGURES["plant-a"]}


def test_figures_per_issuer_and_in_total(report_tokens, now):
    data = token_report(now).as_dict()
    assert {
        row["issuer"]: {k: v for k, v in row.items() if k != "issuer"} for row in data["issuers"]
    } == FIGURES
    assert [row["issuer"] for row in data["issuers"]] == ["plant-a", "plant-b", "plant-c"]
    assert data["total"] == TOTAL
    assert data["total"]["active"] == IssuedToken.objects.active(now).count()
    assert data["generated_at"] == "2026-06-01T12:00:00Z"


def test_figures_agree_with_the_token_list_selectors(report_tokens, now):
    """The same windows as keys.models.token and the dashboard, by construction."""
    total = token_report(now).total
    assert total.expiring_7d == IssuedToken.objects.expiring_within(7 * DAY, now).count()
    assert total.expiring_30d == IssuedToken.objects.expiring_within(30 * DAY, now).count()
    assert total.expired == IssuedToken.objects.expired(now).count()
    assert total.revoked == IssuedToken.objects.revoked().count()


def test_a_second_later_the_edges_move(report_tokens, now):
    later = token_report(now + SECOND).as_dict()["issuers"][0]
    assert later["issuer"] == "plant-a"
    # a exp 7d+1s is now exactly 7 days away; nothing expired in that second.
    assert later["expiring_7d"] == 4
    assert later["expiring_30d"] == 6
    assert later["expired"] == 2
    at_exp = token_report(now + 7 * DAY).as_dict()["issuers"][0]
    assert at_exp["expired"] == 2 + 3  # exp == now is expired: a exp 7d and both week edges


def test_still_accepted_follows_the_export_folder(report_tokens, now, cli_actor):
    plant_b = report_tokens["b in 3d"].issuer
    with clock.frozen_at(now):
        keypair_rotate(actor=cli_actor, issuer=plant_b)
        # Rotated but the old key file still in the folder: still accepted.
        assert token_report(now).as_dict()["issuers"][1]["revoked_still_accepted"] == 1
        export_target(actor=cli_actor, target=ExportTarget.objects.get(name="default"))
    row = token_report(now).as_dict()["issuers"][1]
    assert row["revoked_still_accepted"] == 0
    assert row["signed_by_retired_key"] == 3


def test_longest_remaining_lifetimes(report_tokens, now):
    longest = token_report(now).as_dict()["longest_remaining"]
    assert [entry["label"] for entry in longest] == [
        "a longest",
        "a after the weeks",
        "a week 25 last second",
        "b minted this monday",
        "a old active",
        "a exp 30d+1s",
        "a exp 30d",
        "a exp 7d+1s",
        "a exp 7d",
        "a week 1 first second",
    ]
    first = longest[0]
    token = report_tokens["a longest"]
    assert first == {
        "jti": str(token.jti),
        "issuer": "plant-a",
        "label": "a longest",
        "exp": "2027-03-28T12:00:00Z",
        "remaining_seconds": 300 * 86400,
    }


def test_upcoming_expiries_per_calendar_week(report_tokens, now):
    weeks = token_report(now).as_dict()["upcoming_expiries"]
    assert len(weeks) == WEEKS
    assert weeks[0]["start"] == "2026-06-01T00:00:00Z"
    assert weeks[0]["end"] == weeks[1]["start"] == "2026-06-08T00:00:00Z"
    assert weeks[-1]["end"] == "2026-11-30T00:00:00Z"
    non_empty = {index: week["by_issuer"] for index, week in enumerate(weeks) if week["total"]}
    assert non_empty == {
        # The current week holds what is left of it; a week-0 last second stays in week 0.
        0: {"plant-a": 1, "plant-b": 2},
        # Monday 00:00 exactly opens week 1.
        1: {"plant-a": 3},
        4: {"plant-a": 2},  # exp now + 30d (Wednesday 1 July), and a second later
        7: {"plant-a": 1},  # the old-key token: still active, so it is in the chart
        14: {"plant-b": 1},
        25: {"plant-a": 1},  # its last second; Monday 00:00 after it is outside
    }
    # Only active tokens: the revoked ones expiring in weeks 2, 5 and 7 are not counted.
    assert sum(week["total"] for week in weeks) == 11


def test_minted_and_revoked_per_past_week(report_tokens, now):
    weeks = token_report(now).as_dict()["minted_revoked"]
    assert len(weeks) == WEEKS
    assert weeks[0]["start"] == "2025-12-08T00:00:00Z"
    assert weeks[-1]["start"] == "2026-06-01T00:00:00Z"
    minted = {index: week["minted"] for index, week in enumerate(weeks) if week["minted"]}
    revoked = {index: week["revoked"] for index, week in enumerate(weeks) if week["revoked"]}
    # Week 0 opens at its Monday 00:00 ("b minted before" is a second earlier: outside).
    # Week 24: a exp now, b expired, b minted last sunday. Week 23: the three old-key tokens.
    assert minted == {0: 1, 23: 3, 24: 3, 25: 13}
    assert revoked == {23: 1, 25: 2}


def token_row(issuer, key_pair, *, iat, exp, revoked_at=None) -> IssuedToken:
    return IssuedToken(
        jti=uuid.uuid4(),
        issuer=issuer,
        key_pair=key_pair,
        label=f"row {exp.isoformat()}",
        iat=iat,
        exp=exp,
        claims={},
        token_sha256=uuid.uuid4().hex + uuid.uuid4().hex,
        channel="cli",
        revoked_at=revoked_at,
    )


def test_fractions_of_a_second_stay_in_their_week(issuer, key_pair, now):
    """Minted tokens have whole seconds; rows from elsewhere may not, and a microsecond before
    Monday 00:00 must not round up into the next week."""
    MICRO = timedelta(microseconds=1)
    IssuedToken.objects.bulk_create(
        [
            token_row(issuer, key_pair, iat=MONDAY - MICRO, exp=MONDAY + WEEK - MICRO),
            token_row(issuer, key_pair, iat=MONDAY, exp=MONDAY + WEEK),
            token_row(issuer, key_pair, iat=now, exp=MONDAY + 2 * WEEK - MICRO),
            token_row(issuer, key_pair, iat=now, exp=now + DAY, revoked_at=MONDAY + WEEK - MICRO),
        ]
    )
    report = token_report(now)
    assert [week.total for week in report.upcoming[:3]] == [1, 2, 0]
    assert [(week.minted, week.revoked) for week in report.activity[-2:]] == [(1, 0), (3, 1)]


def test_week_start_is_the_utc_monday():
    assert week_start(NOW) == MONDAY
    assert week_start(MONDAY) == MONDAY
    assert week_start(MONDAY - SECOND) == MONDAY - WEEK
    sunday_evening_elsewhere = datetime(2026, 6, 7, 23, 30, tzinfo=UTC).astimezone(
        ZoneInfo("Asia/Tokyo")
    )
    assert week_start(sunday_evening_elsewhere) == MONDAY


def test_the_report_of_an_empty_database(db, now):
    data = token_report(now).as_dict()
    assert data["issuers"] == []
    assert set(data["total"].values()) == {0}
    assert data["longest_remaining"] == []
    assert {week["total"] for week in data["upcoming_expiries"]} == {0}


def test_the_report_defaults_to_the_clock(report_tokens, now):
    assert token_report() == token_report(now)


# --- Cost ----------------------------------------------------------------------------------

REPORT_QUERIES = 4  # exported kids, the issuers' figures and weeks, longest, minted+revoked


def bulk_tokens(issuer, key_pair, count: int, now) -> None:
    """Volume without the services: rows spread over a year around ``now``."""
    rows = []
    for index in range(count):
        iat = now - timedelta(hours=index % 4000)
        revoked_at = iat + timedelta(minutes=5) if index % 7 == 0 else None
        exp = iat + timedelta(hours=1 + index % 8000)
        rows.append(token_row(issuer, key_pair, iat=iat, exp=exp, revoked_at=revoked_at))
    IssuedToken.objects.bulk_create(rows, batch_size=1000)


def test_the_report_costs_a_fixed_number_of_queries(report_tokens, now):
    with CaptureQueriesContext(connection) as small:
        before = token_report(now)
    key_pair = KeyPair.objects.get(issuer__name="plant-b")
    bulk_tokens(key_pair.issuer, key_pair, 3000, now)
    with CaptureQueriesContext(connection) as large:
        after = token_report(now)
    assert len(small) == len(large) == REPORT_QUERIES
    assert after.total.active > before.total.active
    assert sum(week.minted for week in after.activity) > 3000 / 2
    # Counts of index ranges, never a pass over the rows with a GROUP BY.
    assert not any("GROUP BY" in query["sql"] for query in large.captured_queries)


# --- The REST API --------------------------------------------------------------------------

REPORT_URL = f"{API}/reports/tokens/"


@pytest.mark.parametrize("role", [roles.AUDITORS, roles.ISSUERS, roles.KEY_ADMINS])
def test_each_role_reads_the_report(report_tokens, now, role):
    response = client_for(role).get(REPORT_URL)
    assert response.status_code == 200
    assert response.json() == token_report(now).as_dict()


def test_anonymous_requests_are_refused(report_tokens):
    response = client_for(None).get(REPORT_URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"]


def test_a_user_without_a_role_is_refused(report_tokens):
    user = User.objects.create_user(username="nobody", password="pw")
    key = api_token_create(actor=Actor.cli(), user=user)
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get(REPORT_URL)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_the_report_is_read_only(report_tokens):
    assert client_for(roles.KEY_ADMINS).post(REPORT_URL, {}, format="json").status_code == 405


def test_the_json_has_the_documented_shape(report_tokens, now):
    body = client_for(roles.AUDITORS).get(REPORT_URL).json()
    assert set(body) == {
        "generated_at",
        "issuers",
        "total",
        "longest_remaining",
        "upcoming_expiries",
        "minted_revoked",
    }
    assert body["issuers"][0]["issuer"] == "plant-a"
    assert body["total"] == TOTAL
    assert all(isinstance(value, int) for value in body["total"].values())
    assert body["upcoming_expiries"][0]["by_issuer"] == {"plant-a": 1, "plant-b": 2}


def test_the_figures_as_csv(report_tokens, now):
    response = client_for(roles.AUDITORS).get(REPORT_URL, {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="token-report-')
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [row["issuer"] for row in rows] == ["plant-a", "plant-b", "plant-c", "all"]
    for row in rows:
        expected = TOTAL if row["issuer"] == "all" else FIGURES[row["issuer"]]
        assert {name: int(row[name]) for name in TokenFigures.FIELDS} == expected


def test_format_json_is_the_report(report_tokens, now):
    response = client_for(roles.AUDITORS).get(REPORT_URL, {"format": "json"})
    assert response.json() == token_report(now).as_dict()


def test_an_unknown_format_is_a_400(report_tokens):
    response = client_for(roles.AUDITORS).get(REPORT_URL, {"format": "xlsx"})
    assert response.status_code == 400
    assert "xlsx" in response.json()["error"]["fields"]["format"][0]
