"""Streamed exports of the token list and the audit log, from the admin's changelists and the
API: the files parsed back and held against the database, the lists' filters, spreadsheet
safety, the roles, and that a download streams (first bytes at once, memory flat)."""

import csv
import io
import json
import re
import tracemalloc
import uuid
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from keys import clock, reports, roles
from keys.models import AuditEvent, ExportTarget, IssuedToken
from keys.selectors import exported_kids, token_accepted_until
from keys.services.actor import Actor
from keys.services.api_tokens import api_token_create
from keys.services.exports import export_target
from keys.services.issuers import issuer_create
from keys.services.keypairs import keypair_generate
from keys.services.tokens import token_mint, token_revoke
from tests.api_client import API, client_for

pytestmark = pytest.mark.django_db

BOM = "\ufeff".encode()
FORMULA_LABELS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A2)"]
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
TOKEN_EXPORT = "admin:keys_issuedtoken_export"
AUDIT_EXPORT = "admin:keys_auditevent_export"


# --- Data and clients ----------------------------------------------------------------------


@pytest.fixture
def tokens(issuer, key_pair, cli_actor, now):
    """Tokens of each status in two issuers, some with labels a spreadsheet would run."""
    plant_b = issuer_create(actor=cli_actor, name="plant-b")
    keypair_generate(actor=cli_actor, issuer=plant_b)
    export_target(actor=cli_actor, target=ExportTarget.objects.get(name="default"))

    def mint(issuer, label, **when):
        return token_mint(actor=cli_actor, issuer=issuer, label=label, **when).record

    with clock.frozen_at(now - timedelta(days=2)):
        made = {"expired": mint(issuer, "expired", ttl=timedelta(days=1))}
    made.update(
        {
            "active": mint(issuer, "active ä 東", ttl=timedelta(days=90)),
            "in 3 days": mint(issuer, "in 3 days", ttl=timedelta(days=3)),
            "in 20 days": mint(issuer, "in 20 days", ttl=timedelta(days=20)),
            "revoked": mint(issuer, "revoked", ttl=timedelta(days=5)),
            "plant-b": mint(plant_b, 'plant-b, "quoted"\tand tab', ttl=timedelta(days=60)),
        }
    )
    for index, label in enumerate(FORMULA_LABELS):
        made[label] = mint(issuer, label, ttl=timedelta(days=40 + index))
    made["revoked"] = token_revoke(actor=cli_actor, token=made["revoked"], reason="=leaked")
    return made


def staff_user(role: str | None) -> User:
    user = User.objects.create_user(
        username="staff-" + (role or "no role").lower().replace(" ", "-"),
        password="pw",
        is_staff=True,
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def auditor_client(client):
    client.force_login(staff_user(roles.AUDITORS))
    return client


def api_client_without_role() -> APIClient:
    user = User.objects.create_user(username="nobody", password="pw")
    client = APIClient()
    key = api_token_create(actor=Actor.cli(), user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def body_of(response) -> bytes:
    assert response.status_code == 200, response
    assert isinstance(response, StreamingHttpResponse)
    assert response.streaming
    return b"".join(response.streaming_content)


def csv_rows(response) -> list[dict]:
    body = body_of(response)
    assert body.startswith(BOM)  # Excel reads the file as UTF-8 only with it
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def json_rows(response) -> list[dict]:
    assert response["Content-Type"] == "application/json"
    return json.loads(body_of(response).decode("utf-8"))


def as_spreadsheet_cell(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def utc(text: str | None) -> datetime | None:
    if text in (None, ""):
        return None
    assert ISO_Z.match(text), text
    return datetime.fromisoformat(text)


def assert_token_rows_match_database(rows: list[dict], in_csv: bool, now: datetime) -> None:
    """Each exported row against its token as stored; values only, independent of how the
    export computes them."""
    exported = exported_kids()
    by_jti = IssuedToken.objects.select_related("issuer", "key_pair").in_bulk(
        [uuid.UUID(row["jti"]) for row in rows], field_name="jti"
    )
    assert len(by_jti) == len(rows)
    for row in rows:
        token = by_jti[uuid.UUID(row["jti"])]
        status = "revoked" if token.revoked_at else "expired" if token.exp <= now else "active"
        blank = "" if in_csv else None
        expected = {
            "issuer": token.issuer.name,
            "label": as_spreadsheet_cell(token.label) if in_csv else token.label,
            "status": status,
            "minted_by": token.minted_by_name,
            "channel": token.channel,
            "kid": token.key_pair.kid,
            "revoked_by": token.revoked_by_name or blank,
            "revoke_reason": (
                (as_spreadsheet_cell(token.revoke_reason) if in_csv else token.revoke_reason)
                if token.revoke_reason
                else blank
            ),
        }
        assert {key: row[key] for key in expected} == expected
        assert utc(row["iat"]) == token.iat
        assert utc(row["exp"]) == token.exp
        assert utc(row["revoked_at"]) == token.revoked_at
        assert utc(row["still_accepted_until"]) == token_accepted_until(token, now, exported)


def audit_as_exported(event: AuditEvent) -> dict:
    return {
        "seq": event.seq,
        "actor": event.actor_name,
        "channel": event.channel,
        "remote_addr": event.remote_addr,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "details": event.details,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def assert_audit_rows_match_database(rows: list[dict], in_csv: bool) -> None:
    events = AuditEvent.objects.in_bulk([int(row["seq"]) for row in rows], field_name="seq")
    assert len(events) == len(rows)
    for row in rows:
        event = events[int(row["seq"])]
        expected = audit_as_exported(event)
        if in_csv:
            assert "\n" not in row["details"]  # compact JSON, one line
            row = {**row, "seq": int(row["seq"]), "details": json.loads(row["details"])}
            expected["remote_addr"] = expected["remote_addr"] or ""
            for key in ("actor", "object_repr"):
                expected[key] = as_spreadsheet_cell(expected[key])
        assert {key: row[key] for key in expected} == expected
        assert utc(row["created_at"]) == event.created_at


# --- The admin -----------------------------------------------------------------------------


def admin_export(client, name: str, file_format: str, **params):
    return client.get(reverse(name, args=[file_format]), params)


def changelist_jtis(client, **params) -> list[str]:
    response = client.get(reverse("admin:keys_issuedtoken_changelist"), params)
    assert response.status_code == 200
    return [str(token.jti) for token in response.context["cl"].result_list]


def test_admin_token_csv_is_the_list_as_stored(auditor_client, tokens, now):
    response = admin_export(auditor_client, TOKEN_EXPORT, "csv")
    assert response["Content-Disposition"] == 'attachment; filename="tokens-20260601T120000Z.csv"'
    assert "no-store" in response["Cache-Control"]
    rows = csv_rows(response)
    assert list(rows[0]) == list(reports.TOKEN_COLUMNS)
    assert [row["jti"] for row in rows] == changelist_jtis(auditor_client)  # same order
    assert len(rows) == IssuedToken.objects.count()
    assert_token_rows_match_database(rows, in_csv=True, now=now)


def test_admin_token_json_is_the_list_as_stored(auditor_client, tokens, now):
    response = admin_export(auditor_client, TOKEN_EXPORT, "json")
    assert response["Content-Disposition"] == (
        'attachment; filename="tokens-20260601T120000Z.json"'
    )
    assert "no-store" in response["Cache-Control"]
    rows = json_rows(response)
    assert [row["jti"] for row in rows] == changelist_jtis(auditor_client)
    assert_token_rows_match_database(rows, in_csv=False, now=now)
    labels = {row["label"] for row in rows}
    assert set(FORMULA_LABELS) | {"active ä 東"} <= labels  # JSON is data: left as it is


@pytest.mark.parametrize(
    "params",
    [
        {"status": "active"},
        {"status": "revoked"},
        {"status": "expired"},
        {"status": "still_accepted"},
        {"expires_within": "7d"},
        {"expires_within": "30d", "status": "active"},
        {"q": "plant-b"},
        {"channel__exact": "cli", "o": "-2"},  # sorted by label, descending
        {"exp__year": "2026", "exp__month": "6"},  # the date drill-down
    ],
)
@pytest.mark.parametrize("file_format", ["csv", "json"])
def test_admin_token_export_selects_what_the_changelist_does(
    auditor_client, tokens, params, file_format
):
    response = admin_export(auditor_client, TOKEN_EXPORT, file_format, **params)
    rows = csv_rows(response) if file_format == "csv" else json_rows(response)
    listed = changelist_jtis(auditor_client, **params)
    assert [row["jti"] for row in rows] == listed
    assert 0 < len(listed) < len(tokens) or params.get("channel__exact")


def test_admin_issuer_filter_and_window(auditor_client, tokens):
    plant_b = tokens["plant-b"].issuer
    rows = csv_rows(admin_export(auditor_client, TOKEN_EXPORT, "csv", issuer__id__exact=plant_b.pk))
    assert [row["label"] for row in rows] == ['plant-b, "quoted"\tand tab']
    rows = json_rows(admin_export(auditor_client, TOKEN_EXPORT, "json", expires_within="7d"))
    assert [row["label"] for row in rows] == ["in 3 days"]


def test_admin_export_neutralises_formulas_in_csv(auditor_client, tokens):
    rows = csv_rows(admin_export(auditor_client, TOKEN_EXPORT, "csv"))
    labels = {row["label"] for row in rows}
    assert {"'" + label for label in FORMULA_LABELS} <= labels
    assert not any(label.startswith(("=", "+", "-", "@")) for label in labels)
    revoked = next(row for row in rows if row["status"] == "revoked")
    assert revoked["revoke_reason"] == "'=leaked"


def test_admin_audit_export_neutralises_formulas_in_csv(auditor_client, tokens, issuer):
    actor = Actor(user=None, channel="cli", name='=HYPERLINK("http://evil/","x")')
    token_mint(actor=actor, issuer=issuer, label="by a strange actor")
    rows = csv_rows(admin_export(auditor_client, AUDIT_EXPORT, "csv", action__exact="token.mint"))
    assert rows[0]["actor"] == """'=HYPERLINK("http://evil/","x")"""
    assert all(not value.startswith(("=", "+", "-", "@")) for row in rows for value in row.values())
    rows = json_rows(admin_export(auditor_client, AUDIT_EXPORT, "json", action__exact="token.mint"))
    assert rows[0]["actor"] == actor.name


TRICKY_CELLS = [
    "plain",
    "",
    None,
    "a, comma",
    'a "quote"',
    "a\nline break",
    "a\rreturn",
    "\ttab first",
    "tab\tinside",
    " spaced ",
    "=formula",
    "+1",
    "-2",
    "@SUM(A1)",
    "not=at start",
    "東京 Zürich",
    "'already quoted",
    7,
    {"b": 1, "a": ["x", "=y"]},
]


@pytest.mark.parametrize("columns", [("only",), ("a", "b"), ("a", "b", "c")])
def test_csv_lines_are_the_csv_modules(columns):
    """iter_csv writes most lines without the csv module: every line must still be what the
    csv module writes of the neutralised cells."""
    rows = [
        dict(
            zip(
                columns,
                [TRICKY_CELLS[(start + n) % len(TRICKY_CELLS)] for n in range(len(columns))],
                strict=True,
            )
        )
        for start in range(len(TRICKY_CELLS))
    ]
    rows += [dict.fromkeys(columns, cell) for cell in TRICKY_CELLS]
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([reports.csv_cell(row[column]) for column in columns])
    assert "".join(reports.iter_csv(rows, columns)) == expected.getvalue()


def test_changelists_link_to_exports_of_their_current_selection(auditor_client, tokens):
    html = auditor_client.get(
        reverse("admin:keys_issuedtoken_changelist"), {"status": "revoked", "q": "x y"}
    ).content.decode()
    for file_format in ("csv", "json"):
        url = reverse(TOKEN_EXPORT, args=[file_format])
        assert f'href="{url}?q=x+y&amp;status=revoked"' in html
    html = auditor_client.get(
        reverse("admin:keys_auditevent_changelist"), {"action__exact": "token.mint"}
    ).content.decode()
    assert f'href="{reverse(AUDIT_EXPORT, args=["csv"])}?action__exact=token.mint"' in html
    assert "Export JSON" in html


def test_admin_audit_export_is_the_log_as_stored(auditor_client, tokens):
    response = admin_export(auditor_client, AUDIT_EXPORT, "csv")
    assert re.fullmatch(
        r'attachment; filename="audit-events-20260601T120000Z\.csv"',
        response["Content-Disposition"],
    )
    rows = csv_rows(response)
    assert list(rows[0]) == list(reports.AUDIT_COLUMNS)
    seqs = list(AuditEvent.objects.order_by("-seq").values_list("seq", flat=True))
    assert [int(row["seq"]) for row in rows] == seqs  # the changelist's order
    assert_audit_rows_match_database(rows, in_csv=True)

    rows = json_rows(admin_export(auditor_client, AUDIT_EXPORT, "json"))
    assert [row["seq"] for row in rows] == seqs
    assert_audit_rows_match_database(rows, in_csv=False)
    assert all(isinstance(row["details"], dict) for row in rows)


def test_admin_audit_export_applies_the_action_filter_and_search(auditor_client, tokens):
    rows = json_rows(
        admin_export(auditor_client, AUDIT_EXPORT, "json", action__exact="token.revoke")
    )
    assert [row["object_id"] for row in rows] == [str(tokens["revoked"].jti)]
    assert rows[0]["details"] == AuditEvent.objects.get(action="token.revoke").details
    rows = csv_rows(admin_export(auditor_client, AUDIT_EXPORT, "csv", q="plant-b"))
    expected = AuditEvent.objects.filter(
        object_repr__contains="plant-b"
    ) | AuditEvent.objects.filter(object_id__contains="plant-b")
    assert {int(row["seq"]) for row in rows} == set(expected.values_list("seq", flat=True))
    assert rows


@pytest.mark.parametrize("name", [TOKEN_EXPORT, AUDIT_EXPORT])
def test_admin_export_roles(client, tokens, name):
    url = reverse(name, args=["csv"])
    response = client.get(url)
    assert response.status_code == 302  # to the login page
    assert response["Location"].startswith(reverse("admin:login"))
    client.force_login(staff_user(None))
    assert client.get(url).status_code == 403
    client.force_login(staff_user(roles.AUDITORS))
    assert client.get(url).status_code == 200


def test_admin_export_refuses_unknown_formats_and_bad_filters(auditor_client, tokens):
    assert admin_export(auditor_client, TOKEN_EXPORT, "xlsx").status_code == 404
    response = admin_export(auditor_client, TOKEN_EXPORT, "csv", issuer__id__exact="abc")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:keys_issuedtoken_changelist") + "?e=1"


# --- The API -------------------------------------------------------------------------------


def api_jtis(client, **params) -> list[str]:
    response = client.get(f"{API}/tokens/", {**params, "limit": 1000})
    assert response.status_code == 200
    return [token["jti"] for token in response.json()["results"]]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"status": "active"},
        {"status": "expired"},
        {"status": "revoked"},
        {"issuer": "plant-b"},
        {"expiring_within": "7d"},
        {"issuer": "plant-a", "status": "active", "expiring_within": "30d"},
    ],
)
def test_api_token_export_selects_what_the_list_does(tokens, now, params):
    client = client_for(roles.AUDITORS)
    listed = api_jtis(client, **params)
    rows = csv_rows(client.get(f"{API}/tokens/export/", {**params, "format": "csv"}))
    assert [row["jti"] for row in rows] == listed
    assert_token_rows_match_database(rows, in_csv=True, now=now)
    rows = json_rows(client.get(f"{API}/tokens/export/", {**params, "format": "json"}))
    assert [row["jti"] for row in rows] == listed
    assert_token_rows_match_database(rows, in_csv=False, now=now)


def test_api_token_export_file_and_headers(tokens):
    client = client_for(roles.AUDITORS)
    response = client.get(f"{API}/tokens/export/")  # CSV unless told otherwise
    assert response["Content-Disposition"] == 'attachment; filename="tokens-20260601T120000Z.csv"'
    assert "no-store" in response["Cache-Control"]
    rows = csv_rows(response)
    assert {"'" + label for label in FORMULA_LABELS} <= {row["label"] for row in rows}
    # A client asking for the file by its type gets it, not a 406.
    response = client.get(f"{API}/tokens/export/", HTTP_ACCEPT="text/csv")
    assert len(csv_rows(response)) == len(rows)
    response = client.get(f"{API}/tokens/export/", {"format": "json"}, HTTP_ACCEPT="text/csv")
    assert response["Content-Disposition"].endswith('-20260601T120000Z.json"')
    assert len(json_rows(response)) == len(rows)


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"format": "xml"}, 400, "format"),
        ({"format": "api"}, 400, "format"),  # a DRF renderer's name is no file format
        ({"expiring_within": "soon"}, 400, "expiring_within"),
        ({"status": "lost"}, 400, "status"),
        ({"issuer": "nowhere"}, 404, "issuer"),
    ],
)
def test_api_token_export_refusals_are_json_errors(tokens, params, status, field):
    response = client_for(roles.AUDITORS).get(f"{API}/tokens/export/", params)
    assert response.status_code == status
    assert not response.streaming
    assert field in response.json()["error"]["fields"]


def test_api_audit_export_filters_by_action_and_actor(tokens, cli_actor):
    client = client_for(roles.AUDITORS)  # its API token's creation is an event by another actor
    url = f"{API}/audit-events/export/"
    rows = json_rows(client.get(url, {"format": "json", "action": "token.mint"}))
    expected = AuditEvent.objects.filter(action="token.mint").order_by("-seq")
    assert [row["seq"] for row in rows] == [event.seq for event in expected]
    assert_audit_rows_match_database(rows, in_csv=False)

    rows = csv_rows(client.get(url, {"format": "csv", "actor": cli_actor.name}))
    expected = AuditEvent.objects.filter(actor_name=cli_actor.name).order_by("-seq")
    assert [int(row["seq"]) for row in rows] == [event.seq for event in expected]
    assert 0 < len(rows) < AuditEvent.objects.count()
    assert_audit_rows_match_database(rows, in_csv=True)

    rows = csv_rows(client.get(url, {"action": "token.revoke", "actor": cli_actor.name}))
    assert [row["object_id"] for row in rows] == [str(tokens["revoked"].jti)]
    assert client.get(url, {"format": "pdf"}).status_code == 400


@pytest.mark.parametrize("path", ["tokens/export/", "audit-events/export/"])
def test_api_export_roles(tokens, path):
    url = f"{API}/{path}"
    assert APIClient().get(url).status_code == 401
    refused = api_client_without_role().get(url)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    assert client_for(roles.AUDITORS).get(url).status_code == 200


def test_export_is_not_taken_for_a_token_id(tokens):
    client = client_for(roles.AUDITORS)
    assert client.get(f"{API}/tokens/export/").status_code == 200
    jti = tokens["active"].jti
    assert client.get(f"{API}/tokens/{jti}/").json()["jti"] == str(jti)


# --- Streaming -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "start"),
    [
        (f"{API}/tokens/export/?format=csv", BOM + b"jti,issuer,label,"),
        (f"{API}/tokens/export/?format=json", b"["),
        (f"{API}/audit-events/export/?format=csv", BOM + b"seq,created_at,actor,"),
        (f"{API}/audit-events/export/?format=json", b"["),
    ],
)
def test_the_first_bytes_come_before_the_query_runs(tokens, url, start):
    response = client_for(roles.AUDITORS).get(url)
    assert isinstance(response, StreamingHttpResponse)
    assert response.streaming
    chunks = iter(response.streaming_content)
    with CaptureQueriesContext(connection) as queries:
        first = next(chunks)
    assert first.startswith(start)
    assert first.count(b"\n") <= 1  # the header (or "[") alone
    assert len(queries) == 0  # nothing has been read from the database yet
    with CaptureQueriesContext(connection) as queries:
        rest = b"".join(chunks)
    assert queries  # the rows are read while the body is sent
    assert rest


def test_the_admin_export_starts_before_its_query_runs(auditor_client, tokens):
    response = admin_export(auditor_client, TOKEN_EXPORT, "csv", status="active")
    assert response.streaming
    chunks = iter(response.streaming_content)
    with CaptureQueriesContext(connection) as queries:
        assert next(chunks).startswith(BOM + b"jti,")
    assert len(queries) == 0
    assert b"in 3 days" in b"".join(chunks)


def queries_for_export(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        body_of(response)
    return len(queries)


@pytest.mark.parametrize(
    "url",
    [
        f"{API}/tokens/export/?format=csv",
        f"{API}/audit-events/export/?format=json",
        reverse(TOKEN_EXPORT, args=["json"]),
        reverse(AUDIT_EXPORT, args=["csv"]),
    ],
)
def test_no_query_per_row(tokens, cli_actor, auditor_client, url):
    client = auditor_client if url.startswith("/admin/") else client_for(roles.AUDITORS)
    before = queries_for_export(client, url)
    issuer = tokens["active"].issuer
    for index in range(15):
        token = token_mint(actor=cli_actor, issuer=issuer, label=f"more {index}").record
        if index % 3 == 0:
            token_revoke(actor=cli_actor, token=token)
    assert queries_for_export(client, url) == before


def bulk_tokens(issuer, key_pair, count: int) -> None:
    iat = clock.now()
    IssuedToken.objects.bulk_create(
        (
            IssuedToken(
                jti=uuid.uuid4(),
                issuer=issuer,
                key_pair=key_pair,
                label=f"bulk token {index:06d} for line {index % 40}",
                iat=iat,
                exp=iat + timedelta(days=1 + index % 400),
                claims={"iss": issuer.name, "aud": "neuronex", "n": index},
                token_sha256=f"{index:064x}",
                minted_by_name="bulk",
                channel="cli",
                revoked_at=iat if index % 7 == 0 else None,
                revoke_reason="rotated" if index % 7 == 0 else "",
            )
            for index in range(count)
        ),
        batch_size=2000,
    )


def test_memory_stays_flat_whatever_the_row_count(issuer, key_pair, now):
    """20,000 tokens: the peak of Python's allocations while a download is sent stays a small
    fraction of the file, which is never whole in memory."""
    bulk_tokens(issuer, key_pair, 20_000)
    client = client_for(roles.AUDITORS)
    url = f"{API}/tokens/export/"
    body_of(client.get(url))  # once untraced: first-use caches are not the export's memory
    peaks = {}
    for file_format, params in [("csv", {}), ("json", {}), ("csv", {"status": "revoked"})]:
        tracemalloc.start()
        try:
            response = client.get(url, {"format": file_format, **params})
            size = chunks = largest = 0
            for chunk in response.streaming_content:
                size, chunks, largest = size + len(chunk), chunks + 1, max(largest, len(chunk))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        mb = f"{size / 1e6:.2f} MB in {chunks} chunks, peak {peak / 1e6:.2f} MB"
        print(f"\n{file_format} {params}: {mb}")
        peaks[file_format, bool(params)] = peak
        if not params:
            assert size > 3_000_000
            assert peak < size / 4
        assert largest < 2 * reports.CHUNK_CHARS * 4  # pieces, never the body
    # A seventh of the rows takes as much memory as all of them: it does not grow with them.
    assert peaks["csv", False] < 2 * peaks["csv", True]
