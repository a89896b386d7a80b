"""A database with N realistic issued tokens (default a million), for bench/audit.py.

    .venv/bin/python bench/seed.py [--count N] [--database-url URL | --sqlite] [--seed S]

Without ``--database-url`` the tokens go into a fresh PostgreSQL database ``bench_audit``
(127.0.0.1:5432, user postgres), or with ``--sqlite`` into ``var/bench-audit.sqlite3``. The
database is dropped and made again every time (a re-seed is never a top-up), then migrated.

What it holds, as the portal would after two years of use:

* 20 issuers (mixed audiences and iss styles), each with 1 to 3 key pairs made by the services
  (keys.services.keypairs: real RSA keys, encrypted with this run's key); the last is active,
  the earlier ones retired at instants spread over the two years, and each token is signed by
  the key that was active when it was issued.
* N tokens: ``iat`` over the past two years (more recent ones more frequent), lifetimes from
  an hour to a year, about 10 % revoked (some still unexpired), labels with accents and CJK,
  minted through the admin, the API or the CLI by a handful of users, ``claims`` exactly as
  keys.neuronex.claims.build_claims writes them, ``token_sha256`` unique random hex.

The tokens are written in bulk: COPY on PostgreSQL, ``executemany`` in batches on SQLite,
past the ORM (a million ``bulk_create`` objects would take minutes). PostgreSQL is then
``VACUUM ANALYZE``d, as autovacuum would have done on a table that grew over two years;
SQLite gets no ANALYZE, as the portal never runs one.
"""

import argparse
import json
import os
import random
import secrets
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
PG_MAINTENANCE_DB = "postgres"
PG_DEFAULT_DB = "bench_audit"
SQLITE_DEFAULT = ROOT / "var" / "bench-audit.sqlite3"
DEFAULT_COUNT = 1_000_000
BATCH = 50_000
ISSUERS = 20
PROTECTED_DATABASES = {"test", "lead", "postgres", "template0", "template1"}

ISSUER_NAMES = [
    "berlin-line1",
    "berlin-line2",
    "shenzhen-smt",
    "shenzhen-pack",
    "lyon-paint",
    "lyon-press",
    "porto-cnc",
    "detroit-weld",
    "detroit-qa",
    "osaka-robot",
    "pune-boiler",
    "pune-hvac",
    "krakow-mill",
    "monterrey-ups",
    "gdansk-crane",
    "austin-lab",
    "brno-kiln",
    "tianjin-mes",
    "valencia-scada",
    "edge-fleet",
]
LABEL_PLACES = [
    "line 3 SCADA",
    "Linie 2 Prüfstand",
    "Schweißroboter Süd",
    "atelier peinture — cabine 4",
    "presse hydraulique n°7",
    "工厂 A 网关",
    "二号车间 数据采集",
    "組立ライン 5 ゲートウェイ",
    "Ligne d'assemblage Ø12",
    "Grafana dashboard",
    "historian export job",
    "MES connector",
    "eKuiper rule engine",
    "Node-RED flow «cooling»",
    "Kühlturm-Überwachung",
    "OPC UA bridge",
    "Modbus poller (bay 12)",
    "energy meter ČEZ",
    "maintenance laptop — Żaneta",
    "CI smoke test",
]
REVOKE_REASONS = [
    "laptop lost",
    "contractor left",
    "leaked in a support ticket",
    "replaced by a longer-lived token",
    "device decommissioned",
    "Schlüssel kompromittiert",
    "",
]
USERS = ["alice", "bruno", "chen.wei", "dorota", "émile", "fatima"]
API_USERS = ["svc-mes", "svc-grafana", "svc-ci"]
CLI_NAMES = ["cli:root", "cli:ops", "cli:deploy"]
# (share, shortest, longest) lifetimes in seconds: hours, days, months, up to a year.
LIFETIMES = [
    (0.15, 3600, 24 * 3600),
    (0.25, 24 * 3600, 30 * 24 * 3600),
    (0.35, 30 * 24 * 3600, 90 * 24 * 3600),
    (0.25, 90 * 24 * 3600, 365 * 24 * 3600),
]
SPAN = 2 * 365 * 24 * 3600  # iat spread over the past two years
COLUMNS = (
    "jti",
    "issuer_id",
    "key_pair_id",
    "label",
    "iat",
    "exp",
    "claims",
    "token_sha256",
    "minted_by_id",
    "minted_by_name",
    "channel",
    "revoked_at",
    "revoked_by_id",
    "revoked_by_name",
    "revoke_reason",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT)
    parser.add_argument("--database-url", help="default: postgres .../bench_audit")
    parser.add_argument(
        "--sqlite", action="store_true", help=f"sqlite:///{SQLITE_DEFAULT.relative_to(ROOT)}"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = parser.parse_args()
    if args.count < 0:
        parser.error("--count must be >= 0")
    url = args.database_url or default_url(sqlite=args.sqlite)
    seed(url, args.count, args.seed)
    return 0


def default_url(*, sqlite: bool) -> str:
    if sqlite:
        return f"sqlite:///{SQLITE_DEFAULT}"
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DEFAULT_DB}"


def bench_environment(database_url: str, folder: Path) -> dict[str, str]:
    """Production-like settings (DEBUG off: no query log, manifest static files) with secrets
    of this run only. ``folder`` receives the export folder and the collected static files."""
    from cryptography.fernet import Fernet

    (folder / "neuronex-etc").mkdir(parents=True, exist_ok=True)
    return {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "PORTAL_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DJANGO_ALLOWED_HOSTS": "testserver",
        # Plain HTTP on 127.0.0.1: in production TLS ends at a proxy in front of the portal.
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_STATIC_ROOT": str(folder / "static"),
        "NEURONEX_ETC_DIR": str(folder / "neuronex-etc"),
        "PORTAL_CACHE_DIR": str(folder / "cache"),
        "DJANGO_LOG_LEVEL": "WARNING",
    }


def database_kind(url: str) -> str:
    scheme = urlparse(url).scheme
    if scheme.startswith("sqlite"):
        return "sqlite"
    if scheme.startswith("postgres") or scheme == "pgsql":
        return "postgres"
    raise SystemExit(f"unsupported database URL {url!r}")


def sqlite_path(url: str) -> Path:
    # sqlite:////abs/path or sqlite:///relative
    return Path(url.split("sqlite:///", 1)[1])


def pg_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


def pg_admin(url: str):
    import psycopg

    parts = urlparse(url)
    return psycopg.connect(
        host=parts.hostname or PG_HOST,
        port=parts.port or PG_PORT,
        user=parts.username or PG_USER,
        password=parts.password,
        dbname=PG_MAINTENANCE_DB,
        autocommit=True,
    )


def recreate_database(url: str) -> None:
    if database_kind(url) == "sqlite":
        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        drop_sqlite(path)
        return
    name = pg_name(url)
    if name in PROTECTED_DATABASES:
        raise SystemExit(f"refusing to drop database {name!r}")
    with pg_admin(url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    if database_kind(url) == "sqlite":
        drop_sqlite(sqlite_path(url))
        return
    name = pg_name(url)
    if name in PROTECTED_DATABASES:
        raise SystemExit(f"refusing to drop database {name!r}")
    with pg_admin(url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def drop_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def token_count(url: str) -> int | None:
    """Rows in keys_issuedtoken, or None when the database or the table is missing."""
    if database_kind(url) == "sqlite":
        path = sqlite_path(url)
        if not path.exists():
            return None
        try:
            with sqlite3.connect(path) as db:
                return db.execute("SELECT COUNT(*) FROM keys_issuedtoken").fetchone()[0]
        except sqlite3.Error:
            return None
    import psycopg

    parts = urlparse(url)
    try:
        with psycopg.connect(
            host=parts.hostname,
            port=parts.port or PG_PORT,
            user=parts.username,
            dbname=pg_name(url),
            connect_timeout=5,
        ) as db:
            return db.execute("SELECT COUNT(*) FROM keys_issuedtoken").fetchone()[0]
    except psycopg.Error:
        return None


def seed(url: str, count: int, random_seed: int = 1) -> None:
    """Drop and recreate the database at ``url``, migrate it and fill it (in this process:
    call it before Django is set up, or in a process of its own)."""
    started = time.perf_counter()
    recreate_database(url)
    folder = Path(tempfile.mkdtemp(prefix="portal-seed-"))
    try:
        os.environ.update(bench_environment(url, folder))
        import django

        django.setup()
        from django.core.management import call_command

        # The production checks want real secrets and folders; this database is a bench's.
        call_command("migrate", verbosity=0, interactive=False, skip_checks=True)
        log(url, "migrated; making issuers and key pairs")
        rng = random.Random(random_seed)  # noqa: S311 - reproducible fake data
        now = datetime.now(UTC).replace(microsecond=0)
        issuers = make_issuers(rng, now)
        users = make_users()
        log(url, f"{len(issuers)} issuers, {sum(len(i['keys']) for i in issuers)} key pairs")
        insert_tokens(rng, now, count, issuers, users)
        finish()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    log(url, f"{count} tokens seeded in {time.perf_counter() - started:.1f} s")


def make_users() -> dict[str, int]:
    from django.contrib.auth import get_user_model

    User = get_user_model()
    ids = {}
    for name in USERS + API_USERS:
        user = User(username=name, is_staff=name in USERS)
        user.set_unusable_password()
        user.save()
        ids[name] = user.pk
    return ids


def make_issuers(rng: random.Random, now: datetime) -> list[dict]:
    from keys.models import KeyPair
    from keys.neuronex.profiles import AUDIENCES, ISS_BARE, ISS_FILENAME
    from keys.services.actor import Actor
    from keys.services.issuers import issuer_create
    from keys.services.keypairs import keypair_generate, keypair_rotate

    actor = Actor(user=None, channel="cli", name="cli:seed")
    out = []
    for index, name in enumerate(ISSUER_NAMES[:ISSUERS]):
        issuer = issuer_create(
            actor=actor,
            name=name,
            audience=AUDIENCES[index % len(AUDIENCES)],
            iss_style=ISS_BARE if index % 4 == 3 else ISS_FILENAME,
            description=f"Tokens of {name}",
        )
        n_keys = rng.choice((1, 2, 2, 3))
        keys = [keypair_generate(actor=actor, issuer=issuer)]
        for _ in range(n_keys - 1):
            keys.append(keypair_rotate(actor=actor, issuer=issuer))
        # Rotations spread over the two years: key i was active from starts[i] to starts[i+1].
        starts = [
            now - timedelta(seconds=SPAN + 86400),
            *sorted(now - timedelta(seconds=rng.randint(86400, SPAN)) for _ in range(n_keys - 1)),
        ]
        for i, key in enumerate(keys):
            retired = starts[i + 1] if i + 1 < n_keys else None
            KeyPair.objects.filter(pk=key.pk).update(created_at=starts[i], retired_at=retired)
        out.append(
            {
                "id": issuer.pk,
                "iss": issuer.iss,
                "aud": issuer.audience,
                "keys": [
                    (int(start.timestamp()), key.pk)
                    for start, key in zip(starts, keys, strict=False)
                ],
                # Some issuers mint far more than others.
                "weight": rng.choice((1, 1, 2, 3, 5, 8)),
            }
        )
    return out


def token_rows(rng: random.Random, now: datetime, count: int, issuers, users):
    """Tuples in COLUMNS order, with Python values (aware datetimes, UUIDs, dict claims)."""
    from keys.neuronex.claims import build_claims

    now_ts = int(now.timestamp())
    weights = [issuer["weight"] for issuer in issuers]
    shares = [share for share, _, _ in LIFETIMES]
    admins = [(users[name], name) for name in USERS]
    api_users = [(users[name], name) for name in API_USERS]
    choices, random_, randint = rng.choices, rng.random, rng.randint
    issuer_picks = choices(issuers, weights=weights, k=count)
    lifetime_picks = choices(LIFETIMES, weights=shares, k=count)
    for n in range(count):
        issuer = issuer_picks[n]
        _, shortest, longest = lifetime_picks[n]
        # More tokens lately: u ** 1.6 puts more of them near now.
        iat = now_ts - 60 - int(SPAN * random_() ** 1.6)
        exp = iat + randint(shortest, longest)
        key_pair_id = issuer["keys"][0][1]
        for start, pk in issuer["keys"]:
            if start <= iat:
                key_pair_id = pk
        jti = uuid.UUID(int=rng.getrandbits(128), version=4)
        claims = build_claims(iss=issuer["iss"], aud=issuer["aud"], jti=str(jti), iat=iat, exp=exp)
        roll = random_()
        if roll < 0.5:
            minted_by_id, minted_by_name = admins[n % len(admins)]
            channel = "admin"
        elif roll < 0.85:
            minted_by_id, minted_by_name = api_users[n % len(api_users)]
            channel = "api"
        else:
            minted_by_id, minted_by_name = None, CLI_NAMES[n % len(CLI_NAMES)]
            channel = "cli"
        label = f"{LABEL_PLACES[n % len(LABEL_PLACES)]} #{randint(1, 400)}"
        revoked_at = revoked_by_id = None
        revoked_by_name = revoke_reason = ""
        if random_() < 0.10:
            until = min(exp, now_ts)
            revoked_at = datetime.fromtimestamp(iat + (until - iat) * random_(), UTC)
            revoked_by_id, revoked_by_name = admins[(n // 7) % len(admins)]
            revoke_reason = REVOKE_REASONS[n % len(REVOKE_REASONS)]
        yield (
            jti,
            issuer["id"],
            key_pair_id,
            label,
            datetime.fromtimestamp(iat, UTC),
            datetime.fromtimestamp(exp, UTC),
            claims,
            f"{rng.getrandbits(256):064x}",
            minted_by_id,
            minted_by_name,
            channel,
            revoked_at,
            revoked_by_id,
            revoked_by_name,
            revoke_reason,
        )


def insert_tokens(rng, now, count, issuers, users) -> None:
    from django.db import connection

    rows = token_rows(rng, now, count, issuers, users)
    table = "keys_issuedtoken"
    started = time.perf_counter()
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        raw = connection.connection
        copy_sql = f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row((*row[:6], json.dumps(row[6]), *row[7:]))
        raw.commit()
    else:
        connection.ensure_connection()
        raw = connection.connection
        sql = f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        batch = []
        # Django's SQLite connection is in autocommit: one transaction for all the rows.
        raw.execute("BEGIN")
        for row in rows:
            batch.append(sqlite_row(row))
            if len(batch) >= BATCH:
                raw.executemany(sql, batch)
                batch = []
        if batch:
            raw.executemany(sql, batch)
        raw.execute("COMMIT")
    log(connection.vendor, f"{count} token rows written in {time.perf_counter() - started:.1f} s")


def sqlite_text(value: datetime | None) -> str | None:
    """As Django's SQLite backend stores an aware datetime: naive UTC, ISO with a space."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")


def sqlite_row(row: tuple) -> tuple:
    jti, issuer_id, key_pair_id, label, iat, exp, claims, *rest = row
    sha, minted_by_id, minted_by_name, channel, revoked_at, *revoker = rest
    return (
        jti.hex,
        issuer_id,
        key_pair_id,
        label,
        sqlite_text(iat),
        sqlite_text(exp),
        json.dumps(claims),
        sha,
        minted_by_id,
        minted_by_name,
        channel,
        sqlite_text(revoked_at),
        *revoker,
    )


def finish() -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        connection.ensure_connection()
        raw = connection.connection
        previous = raw.autocommit
        raw.autocommit = True
        raw.execute("VACUUM ANALYZE")
        raw.autocommit = previous
    else:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


def log(where: str, message: str) -> None:
    print(f"[seed {where}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
