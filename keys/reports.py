"""Token listings and the audit log as people and other programs read them: a table, CSV or
JSON, written to a stream (the commands) or yielded in pieces (the downloads of the admin and
the API, keys/admin/export_views.py and keys/api/export_views.py).

The CSV and JSON writers hold one piece of their output at a time, and callers hand them
``queryset.iterator()``: an export of a million rows costs the memory of a few hundred. Only
the table, which must measure every row for its column widths, reads all of them first."""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import IO

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from keys import clock
from keys.models import AuditEvent, IssuedToken
from keys.models.token import token_status
from keys.neuronex.revocation import still_accepted_until
from keys.selectors import exported_kids, key_in_force
from keys.token_report import TokenFigures, TokenReport

TOKEN_COLUMNS = (
    "jti",
    "issuer",
    "label",
    "status",
    "iat",
    "exp",
    "minted_by",
    "channel",
    "kid",
    "revoked_at",
    "revoked_by",
    "revoke_reason",
    "still_accepted_until",
)
# What token_rows reads, in the order it unpacks them, and all that an export loads.
TOKEN_ROW_FIELDS = (
    "jti",
    "issuer__name",
    "key_pair__kid",
    "key_pair__status",
    "label",
    "iat",
    "exp",
    "minted_by_name",
    "channel",
    "revoked_at",
    "revoked_by_name",
    "revoke_reason",
)
AUDIT_COLUMNS = (
    "seq",
    "created_at",
    "actor",
    "channel",
    "remote_addr",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "details",
    "prev_hash",
    "hash",
)
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# Rows fetched per round trip of an export's query (a server-side cursor on PostgreSQL,
# fetchmany on SQLite): the rows in memory at once, about 1 kB each as Python objects. They
# set an export's peak memory: 2000 (Django's default) took 3 MB, 250 takes 0.6 MB, at any
# row count (tests/keys_tests/test_exports_streamed.py measures it).
ITERATOR_CHUNK_SIZE = 250
# Characters gathered before a piece of a download is handed on: one piece per row would
# cost a write to the socket per row.
CHUNK_CHARS = 16 * 1024
# Excel reads a CSV file in the machine's ANSI code page unless it starts with a UTF-8 byte
# order mark: without one, every label with an accent or a CJK character comes out garbled.
# Only the downloads carry it; the command's CSV goes to pipes and programs, where a BOM is a
# stray character in the first column's name. (Python reads it away with "utf-8-sig".)
CSV_BOM = "\ufeff"
EXPORT_FORMATS = ("csv", "json")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def token_rows(tokens: Iterable[tuple], now: datetime | None = None) -> Iterator[dict]:
    """One dict per token, with the status as of ``now``, from the tuples of
    token_export_queryset (its fields in TOKEN_ROW_FIELDS order)."""
    now = now or clock.now()
    exported = exported_kids()
    for (
        jti,
        issuer,
        kid,
        key_status,
        label,
        iat,
        exp,
        minted_by,
        channel,
        revoked_at,
        revoked_by,
        reason,
    ) in tokens:
        accepted_until = still_accepted_until(
            revoked=revoked_at is not None,
            exp=exp,
            key_active=key_in_force(kid, key_status, exported),
            now=now,
        )
        yield {
            "jti": str(jti),
            "issuer": issuer,
            "label": label,
            "status": token_status(revoked_at, exp, now).value,
            "iat": _iso(iat),
            "exp": _iso(exp),
            "minted_by": minted_by,
            "channel": channel,
            "kid": kid,
            "revoked_at": _iso(revoked_at),
            "revoked_by": revoked_by or None,
            "revoke_reason": reason or None,
            "still_accepted_until": _iso(accepted_until),
        }


def token_export_queryset(tokens: QuerySet[IssuedToken]) -> QuerySet:
    """``tokens`` (filtered and ordered) as tuples of TOKEN_ROW_FIELDS: building the three
    model objects of a row (token, issuer, key pair) was most of an export's time, 30 s of a
    million rows' 39 s."""
    return tokens.values_list(*TOKEN_ROW_FIELDS)


def audit_rows(events: Iterable[AuditEvent]) -> Iterator[dict]:
    """One dict per event, every recorded field: with prev_hash and hash, a copy of the log can
    be checked link by link away from the portal. ``details`` stays an object; the CSV writes
    it as compact JSON."""
    for event in events:
        yield {
            "seq": event.seq,
            "created_at": _iso(event.created_at),
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


def csv_cell(value):
    """A value as a spreadsheet may safely open it: a text that a spreadsheet would run as a
    formula gets a leading ', and a JSON value is written compactly. One call per cell: a
    million-row export writes thirteen million of them."""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_PREFIXES) else value
    if isinstance(value, dict | list):
        return csv_cell(
            json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
        )
    return value


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def iter_csv(
    rows: Iterable[dict], columns: tuple[str, ...] = TOKEN_COLUMNS, *, bom: bool = False
) -> Iterator[str]:
    """A header row, then the rows, in pieces of about CHUNK_CHARS. The header comes first and
    alone, before ``rows`` is asked for anything, so that a download starts before its query
    has run."""
    buffer = io.StringIO()
    # A plain writer and a list per row: DictWriter's checks cost a fifth of an export.
    writer = csv.writer(buffer, lineterminator="\r\n")
    if bom:
        buffer.write(CSV_BOM)
    writer.writerow(columns)
    yield _drain(buffer)
    for row in rows:
        writer.writerow([csv_cell(row[column]) for column in columns])
        if buffer.tell() >= CHUNK_CHARS:
            yield _drain(buffer)
    if rest := _drain(buffer):
        yield rest


def iter_json(
    rows: Iterable[dict], *, indent: int | None = None, ensure_ascii: bool = False
) -> Iterator[str]:
    """A JSON array of the rows, in pieces of about CHUNK_CHARS; "[" comes first and alone, as
    the CSV's header does. Without ``indent``, one row per line. With it, the same text as
    ``json.dump(list(rows), indent=indent)``."""
    pad = "\n" + " " * (indent or 0)
    yield "["
    pieces, size, separator = [], 0, pad
    for row in rows:
        text = json.dumps(row, indent=indent, ensure_ascii=ensure_ascii)
        if indent:
            text = text.replace("\n", pad)  # JSON strings hold no raw newline
        pieces.append(separator + text)
        size += len(pieces[-1])
        separator = "," + pad
        if size >= CHUNK_CHARS:
            yield "".join(pieces)
            pieces, size = [], 0
    pieces.append("\n]" if separator != pad else "]")
    yield "".join(pieces)


def write_csv(
    rows: Iterable[dict], stream: IO[str], columns: tuple[str, ...] = TOKEN_COLUMNS
) -> None:
    for chunk in iter_csv(rows, columns):
        stream.write(chunk)


def write_json(rows: Iterable[dict], stream: IO[str]) -> None:
    # ASCII, as before: the terminal or file behind the stream may not be UTF-8.
    for chunk in iter_json(rows, indent=2, ensure_ascii=True):
        stream.write(chunk)
    stream.write("\n")


def export_response(
    rows: Iterable[dict], *, columns: tuple[str, ...], file_format: str, stem: str, now: datetime
) -> StreamingHttpResponse:
    """A download of ``rows`` as ``file_format`` (one of EXPORT_FORMATS), streamed: the first
    bytes leave before the query has run, and the body is never whole in memory."""
    chunks = iter_csv(rows, columns, bom=True) if file_format == "csv" else iter_json(rows)
    response = StreamingHttpResponse(chunks, content_type=CONTENT_TYPES[file_format])
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="{stem}-{stamp}.{file_format}"'
    # Token lists and the audit log stay out of browser and proxy caches.
    response["Cache-Control"] = "no-store"
    return response


TABLE_COLUMNS = ("jti", "issuer", "label", "status", "exp", "minted_by")


def write_table(
    rows: Iterable[dict], stream: IO[str], columns: tuple[str, ...] = TABLE_COLUMNS
) -> int:
    rows = [[_table_cell(row[column]) for column in columns] for row in rows]
    widths = [max([len(name)] + [len(row[i]) for row in rows]) for i, name in enumerate(columns)]
    for line in [list(columns), *rows]:
        cells = "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        stream.write(cells.rstrip() + "\n")
    return len(rows)


def _table_cell(value) -> str:
    return "" if value is None or value == "" else str(value)


REPORT_COLUMNS = ("issuer", *TokenFigures.FIELDS)
AUDIT_TABLE_COLUMNS = ("seq", "created_at", "actor", "action", "object_repr")


def report_rows(report: TokenReport) -> Iterator[dict]:
    """The report's figures as rows: one per issuer, then the total (issuer "all")."""
    for issuer in report.issuers:
        yield issuer.as_dict()
    yield {"issuer": "all", **report.total.as_dict()}
