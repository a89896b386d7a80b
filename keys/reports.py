"""Token listings as people and other programs read them: a table, CSV or JSON."""

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO

from keys import clock
from keys.models import IssuedToken
from keys.selectors import exported_kids, token_accepted_until

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
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def token_rows(tokens: Iterable[IssuedToken], now: datetime | None = None) -> Iterator[dict]:
    """One dict per token, with the status as of ``now``. Expects ``select_related`` issuer
    and key_pair (as selectors.token_list gives), so no query runs per row."""
    now = now or clock.now()
    exported = exported_kids()
    for token in tokens:
        yield {
            "jti": str(token.jti),
            "issuer": token.issuer.name,
            "label": token.label,
            "status": str(token.status_at(now)),
            "iat": _iso(token.iat),
            "exp": _iso(token.exp),
            "minted_by": token.minted_by_name,
            "channel": token.channel,
            "kid": token.key_pair.kid,
            "revoked_at": _iso(token.revoked_at),
            "revoked_by": token.revoked_by_name or None,
            "revoke_reason": token.revoke_reason or None,
            "still_accepted_until": _iso(token_accepted_until(token, now, exported)),
        }


def neutralise_formula(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def write_csv(rows: Iterable[dict], stream: IO[str]) -> None:
    writer = csv.DictWriter(stream, fieldnames=TOKEN_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: neutralise_formula(value) for key, value in row.items()})


def write_json(rows: Iterable[dict], stream: IO[str]) -> None:
    json.dump(list(rows), stream, indent=2)
    stream.write("\n")


TABLE_COLUMNS = ("jti", "issuer", "label", "status", "exp", "minted_by")


def write_table(rows: Iterable[dict], stream: IO[str]) -> int:
    rows = [[str(row[column] or "") for column in TABLE_COLUMNS] for row in rows]
    widths = [
        max([len(column)] + [len(row[i]) for row in rows]) for i, column in enumerate(TABLE_COLUMNS)
    ]
    for line in [list(TABLE_COLUMNS), *rows]:
        cells = "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        stream.write(cells.rstrip() + "\n")
    return len(rows)
