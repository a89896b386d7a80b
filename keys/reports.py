"""Token listings and the audit log as people and other programs read them: a table, CSV or
JSON, written to a stream (the commands) or yielded in pieces (the downloads of the admin and
the API, keys/admin/export_views.py and keys/api/export_views.py).

The CSV and JSON writers hold one piece of their output at a time, and their rows come from
``queryset.iterator()`` (token_export_rows, or the callers' for the audit log): an export of a
million rows costs the memory of a few hundred. Only the table, which must measure every row
for its column widths, reads all of them first."""

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import IO

from django.db.models import Case, CharField, F, QuerySet, TextField, Value, When
from django.db.models.functions import NullIf
from django.http import StreamingHttpResponse

from keys import clock
from keys.models import AuditEvent, IssuedToken
from keys.models.token import status_expression, still_accepted_condition
from keys.selectors import exported_kids
from keys.sql_text import IsoTime, UuidText
from keys.token_report import TokenFigures, TokenReport, iso

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
FORMULA_PREFIXES = frozenset(("=", "+", "-", "@", "\t", "\r"))

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
    return iso(value) if value else None


def token_export_rows(tokens: QuerySet[IssuedToken], now: datetime | None = None) -> Iterator[dict]:
    """One dict per token of ``tokens`` (filtered and ordered), in TOKEN_COLUMNS, with the
    status as of ``now``, read a few hundred at a time.

    The database writes every cell as text (keys.sql_text, and the status rules'
    database forms in keys.models.token), so that Python only hands strings on: a million
    rows took 26-32 s when Python made a datetime and a UUID of each cell and formatted them.
    """
    now = now or clock.now()
    cells = {
        "jti": UuidText("jti"),
        "issuer": F("issuer__name"),
        "label": F("label"),
        "status": status_expression(now),
        "iat": IsoTime("iat"),
        "exp": IsoTime("exp"),
        "minted_by": F("minted_by_name"),
        "channel": F("channel"),
        "kid": F("key_pair__kid"),
        "revoked_at": IsoTime("revoked_at"),
        "revoked_by": NullIf("revoked_by_name", Value("")),
        "revoke_reason": NullIf("revoke_reason", Value(""), output_field=TextField()),
        "still_accepted_until": Case(
            When(still_accepted_condition(exported_kids(), now), then=IsoTime("exp")),
            output_field=CharField(),
        ),
    }
    # Prefixed: "label" or "status" would clash with a field or an annotation of ``tokens``.
    names = {f"export_{column}": cells[column] for column in TOKEN_COLUMNS}
    rows = tokens.annotate(**names).values_list(*names).iterator(chunk_size=ITERATOR_CHUNK_SIZE)
    return (dict(zip(TOKEN_COLUMNS, row, strict=True)) for row in rows)


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
        return "'" + value if value[:1] in FORMULA_PREFIXES else value
    if isinstance(value, dict | list):
        return csv_cell(
            json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
        )
    return value


# Besides a comma (see _plain_csv_line), what makes the csv module quote a cell.
QUOTED = re.compile(r'["\r\n]')
# A cell that csv_cell would neutralise, after the first, in a line whose commas all separate
# cells. With the comma first, the search skips along the line at C speed.
FORMULA_CELL = re.compile(",[" + re.escape("".join(sorted(FORMULA_PREFIXES))) + "]")


def _plain_csv_line(cells: list, separators: int) -> str | None:
    """The CSV line of ``cells`` when every cell is text that needs neither quoting nor
    neutralising, else None. Most rows are such: joined, the whole line is checked at once,
    at a fraction of the cost of csv.writer and a csv_cell per cell (a million-row export
    spent 10 s writing its rows that way)."""
    if not separators:  # a lone empty cell is written "" by the csv module
        return None
    try:
        line = ",".join(cells)
    except TypeError:  # a number or a JSON value: csv_cell and the writer
        return None
    if (
        line.count(",") != separators
        or line[:1] in FORMULA_PREFIXES
        or QUOTED.search(line)
        or FORMULA_CELL.search(line)
    ):
        return None
    return line + "\r\n"


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
    writer = csv.writer(buffer, lineterminator="\r\n")

    def written(cells: list) -> str:
        writer.writerow([csv_cell(cell) for cell in cells])
        return _drain(buffer)

    yield (CSV_BOM if bom else "") + written(list(columns))
    separators = len(columns) - 1
    pieces, size = [], 0
    for row in rows:
        cells = ["" if (value := row[column]) is None else value for column in columns]
        line = _plain_csv_line(cells, separators) or written(cells)
        pieces.append(line)
        size += len(line)
        if size >= CHUNK_CHARS:
            yield "".join(pieces)
            pieces, size = [], 0
    if pieces:
        yield "".join(pieces)


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
