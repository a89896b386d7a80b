"""keys.sql_text: the database writes times and token ids exactly as Python does, on SQLite and
PostgreSQL (CI runs both), or the export and the API would disagree on the same token."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from keys.models import IssuedToken
from keys.reports import _iso
from keys.sql_text import IsoTime, UuidText
from tests.keys_tests.test_token_report import token_row

pytestmark = pytest.mark.django_db

INSTANTS = [
    datetime(2026, 6, 1, 12, 0, tzinfo=UTC),  # whole seconds: no fraction written
    datetime(2026, 6, 1, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 6, 2, 0, 0, 0, 1, tzinfo=UTC),
    datetime(2026, 6, 2, 0, 0, 0, 500000, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 0, tzinfo=UTC),
]


@pytest.fixture
def rows(issuer, key_pair):
    IssuedToken.objects.bulk_create(
        token_row(
            issuer,
            key_pair,
            iat=instant - timedelta(hours=1),
            exp=instant,
            revoked_at=instant if index % 2 else None,
        )
        for index, instant in enumerate(INSTANTS)
    )
    return list(IssuedToken.objects.order_by("exp"))


def test_times_as_python_writes_them(rows):
    written = list(
        IssuedToken.objects.order_by("exp").values_list(
            IsoTime("exp"), IsoTime("iat"), IsoTime("revoked_at")
        )
    )
    assert written == [(_iso(t.exp), _iso(t.iat), _iso(t.revoked_at)) for t in rows]
    assert written[0][0] == "1999-12-31T23:00:00Z"
    assert written[2][0] == "2026-06-01T23:59:59.999999Z"
    assert written[3][0] == "2026-06-02T00:00:00.000001Z"
    assert [revoked for _, _, revoked in written].count(None) == 3


def test_token_ids_as_python_writes_them(rows):
    written = list(IssuedToken.objects.order_by("exp").values_list(UuidText("jti"), "jti"))
    assert [text for text, _ in written] == [str(jti) for _, jti in written]
    assert all(uuid.UUID(text).hex == jti.hex for text, jti in written)
