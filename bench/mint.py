"""Tokens minted per second through the service layer, as a ratio to raw RS256 signing.

    .venv/bin/python bench/mint.py [--seconds N] [--rounds N] [--bits 2048|3072|4096]
                                   [--backend sqlite|postgres|all]

A mint (``keys.services.tokens.token_mint``) is a signature, a token row and an audit event in
one transaction. The baseline is ``jwt.encode(claims, key, algorithm="RS256")`` with the very
key object the service signs with and claims of the same shape, measured in the same run,
alternating with the mints round by round, so that the ratio says what the database work costs
on this machine whatever else the machine is doing. The median ratio over the rounds is
reported.

Each backend runs in its own subprocess (this script, re-invoked with ``--worker``), because
Django reads its database settings once per process:

* SQLite: a fresh database file in a temporary folder, migrated, removed at the end.
* PostgreSQL (127.0.0.1:5432, user postgres): a fresh database ``portal_bench``, created,
  migrated and dropped at the end; skipped with a message when ``pg_isready`` fails. Besides
  one thread it measures four threads minting at once, each with its own connection, against
  four threads signing.

The target is a ratio of at least 0.5 on PostgreSQL; missing it is reported, not an error.
The exit status is non-zero only when something fails (a worker crashes, the audit chain
does not verify afterwards, a token is missing).
"""

import argparse
import itertools
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BACKENDS = ("sqlite", "postgres")
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
PG_MAINTENANCE_DB = "postgres"
PG_BENCH_DB = "portal_bench"
THREADS = 4
TARGET_RATIO = 0.5
WARMUP_OPS = 50
RESULT_PREFIX = "BENCH-RESULT "


# --- The parent: one subprocess per backend, then the table ---------------------------------


def main() -> int:
    args = parse_args()
    if args.worker:
        return worker(args)

    wanted = BACKENDS if args.backend == "all" else (args.backend,)
    print(
        f"Minting through token_mint vs raw RS256 signing ({args.bits}-bit key): "
        f"{args.rounds} rounds of {args.seconds:g} s per measurement, raw and service "
        "alternating; the median of each is reported.",
        flush=True,
    )
    results, failed = [], []
    for backend in wanted:
        runner = run_sqlite if backend == "sqlite" else run_postgres
        try:
            result = runner(args)
        except BenchError as exc:
            print(f"[{backend}] FAILED: {exc}", file=sys.stderr, flush=True)
            failed.append(backend)
            continue
        if result is not None:
            results.append(result)
    print_table(results)
    if failed:
        print(f"\nFailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds", type=float, default=2.0, help="length of one measurement (default 2)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="raw/service measurement pairs per mode; the median ratio is reported (default 3)",
    )
    parser.add_argument(
        "--bits",
        type=int,
        choices=(2048, 3072, 4096),
        default=2048,
        help="RSA key size (default 2048); bigger keys sign slower, so the ratio rises",
    )
    parser.add_argument("--backend", choices=(*BACKENDS, "all"), default="all")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not 0 < args.seconds <= 30:
        parser.error("--seconds must be in (0, 30]")
    if not 1 <= args.rounds <= 15:
        parser.error("--rounds must be in 1..15")
    if args.worker and args.backend == "all":
        parser.error("--worker needs one --backend")
    return args


class BenchError(Exception):
    pass


def run_sqlite(args: argparse.Namespace) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    try:
        return run_worker(args, "sqlite", f"sqlite:///{folder / 'bench.sqlite3'}", folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_postgres(args: argparse.Namespace) -> dict | None:
    pg_isready = shutil.which("pg_isready")
    ready = pg_isready is not None and (
        subprocess.run(
            [pg_isready, "-q", "-h", PG_HOST, "-p", str(PG_PORT)], check=False, timeout=15
        ).returncode
        == 0
    )
    if not ready:
        why = "pg_isready not found" if pg_isready is None else "pg_isready -h 127.0.0.1 failed"
        print(f"[postgres] SKIPPED: {why}; no PostgreSQL to measure.", flush=True)
        return None
    folder = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    try:
        pg_recreate_database()
        try:
            url = f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_BENCH_DB}"
            return run_worker(args, "postgres", url, folder)
        finally:
            pg_drop_database()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _pg_admin():
    import psycopg

    return psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_MAINTENANCE_DB, autocommit=True
    )


def pg_recreate_database() -> None:
    try:
        with _pg_admin() as admin:
            # Left over only if an earlier run was killed before its clean-up.
            admin.execute(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{PG_BENCH_DB}"')
    except Exception as exc:
        raise BenchError(f"cannot create database {PG_BENCH_DB}: {exc}") from exc


def pg_drop_database() -> None:
    try:
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')
    except Exception as exc:
        print(f"[postgres] could not drop database {PG_BENCH_DB}: {exc}", file=sys.stderr)


def run_worker(args: argparse.Namespace, backend: str, database_url: str, folder: Path) -> dict:
    from cryptography.fernet import Fernet

    (folder / "neuronex-etc").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": database_url,
        # Production-like: DEBUG off (no query log), secrets of this run only.
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "PORTAL_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "NEURONEX_ETC_DIR": str(folder / "neuronex-etc"),
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        f"--backend={backend}",
        f"--seconds={args.seconds}",
        f"--rounds={args.rounds}",
        f"--bits={args.bits}",
    ]
    modes = 2 if backend == "postgres" else 1
    timeout = 120 + 4 * modes * args.rounds * args.seconds
    try:
        completed = subprocess.run(
            command,
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"the worker did not finish within {timeout:.0f} s") from exc
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if completed.returncode != 0 or not lines:
        raise BenchError(f"the worker exited with status {completed.returncode}")
    return json.loads(lines[-1][len(RESULT_PREFIX) :])


def print_table(results: list[dict]) -> None:
    if not results:
        print("\nNothing was measured.")
        return
    header = (
        "backend",
        "mode",
        "mints/s",
        "raw signs/s",
        "ratio",
        "ratio range",
        "target",
        "sign+commit/s",
        "mint/floor",
    )
    rows = []
    for result in results:
        for mode in result["modes"]:
            ratio = statistics.median(mode["ratios"])
            floor = statistics.median(mode["floor_rates"])
            if result["backend"] == "postgres":
                verdict = "met" if ratio >= TARGET_RATIO else "MISSED"
                target = f">= {TARGET_RATIO:.2f} {verdict}"
            else:
                target = "-"
            rows.append(
                (
                    result["backend"],
                    mode["mode"],
                    f"{statistics.median(mode['mint_rates']):.0f}",
                    f"{statistics.median(mode['raw_rates']):.0f}",
                    f"{ratio:.2f}",
                    f"{min(mode['ratios']):.2f}-{max(mode['ratios']):.2f}",
                    target,
                    f"{floor:.0f}",
                    f"{statistics.median(mode['mint_rates']) / floor:.2f}",
                )
            )
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    print()
    for index, row in enumerate((header, *rows)):
        cells = [
            str(cell).ljust(width) if column < 2 else str(cell).rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))
    print()
    for result in results:
        print(
            f"{result['backend']}: {result['server']}; {result['tokens']} tokens minted, "
            f"audit chain of {result['chain']} events verified."
        )
    print(
        "ratio = service mints/s / raw RS256 signs/s in the same round (median over rounds); "
        "mints/s and raw signs/s are the medians of their own rounds.\n"
        "sign+commit/s = the same signature plus one row committed durably: the floor that any "
        "tracked mint pays on this database; mint/floor = what the portal costs above it."
    )


# --- The worker: one backend, inside Django -------------------------------------------------


def worker(args: argparse.Namespace) -> int:
    import django

    django.setup()

    from django.core.management import call_command
    from django.db import connection

    backend = args.backend
    log(backend, "migrating a fresh database")
    call_command("migrate", verbosity=0, interactive=False)
    try:
        result = measure(args, backend)
        result["server"] = server_description(connection)
    finally:
        connection.close()
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


def measure(args: argparse.Namespace, backend: str) -> dict:
    import jwt

    from keys import crypto
    from keys.models import AuditEvent, IssuedToken
    from keys.neuronex import claims as neuronex_claims
    from keys.services.actor import Actor
    from keys.services.audit import audit_verify
    from keys.services.issuers import issuer_create
    from keys.services.keypairs import keypair_generate
    from keys.services.tokens import token_mint

    actor = Actor(user=None, channel="cli", name="bench")
    issuer = issuer_create(actor=actor, name="bench")
    key_pair = keypair_generate(actor=actor, issuer=issuer, bits=args.bits)
    minted = Counter()

    def mint() -> None:
        token_mint(actor=actor, issuer=issuer, label="bench")
        minted.add()

    mint()  # loads the key into the signing-key cache: the raw baseline signs with that object
    private_key = crypto.signing_keys.get(key_pair.kid, lambda: key_pair.private_key_encrypted)
    ttl = int(issuer.default_ttl.total_seconds())

    def raw_sign() -> None:
        iat = int(time.time())
        payload = neuronex_claims.build_claims(
            iss=issuer.iss, aud=issuer.audience, jti=str(uuid.uuid4()), iat=iat, exp=iat + ttl
        )
        jwt.encode(payload, private_key, algorithm="RS256")

    # The least any tracked mint costs: the same signature plus one row committed durably.
    # The gap between this and raw signing is the database's, not the portal's.
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_floor (id BIGINT PRIMARY KEY, token_sha256 TEXT)")
    floor_ids = itertools.count(1)  # next() on a count is atomic under the GIL

    def sign_and_commit() -> None:
        raw_sign()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_floor (id, token_sha256) VALUES (%s, %s)",
                [next(floor_ids), uuid.uuid4().hex],
            )

    for _ in range(WARMUP_OPS):
        raw_sign()
        sign_and_commit()
        mint()

    modes = [("1 thread", 1)]
    if backend == "postgres":
        modes.append((f"{THREADS} threads", THREADS))
    results = []
    for label, threads in modes:
        if threads > 1:  # each thread's first connection and first mint stay out of the timing
            run_threads(mint, 0.2, threads)
        mode = {
            "mode": label,
            "threads": threads,
            "mint_rates": [],
            "raw_rates": [],
            "floor_rates": [],
            "ratios": [],
        }
        for round_number in range(args.rounds):
            # Alternate which goes first, so that a drift in the machine's load evens out.
            order = ("raw", "floor", "mint") if round_number % 2 == 0 else ("mint", "floor", "raw")
            operations = {"raw": raw_sign, "floor": sign_and_commit, "mint": mint}
            rates = {}
            for kind in order:
                operation = operations[kind]
                if threads == 1:
                    rates[kind] = run_single(operation, args.seconds)
                else:
                    rates[kind] = run_threads(operation, args.seconds, threads)
            mode["mint_rates"].append(rates["mint"])
            mode["raw_rates"].append(rates["raw"])
            mode["floor_rates"].append(rates["floor"])
            mode["ratios"].append(rates["mint"] / rates["raw"])
            log(
                backend,
                f"{label}, round {round_number + 1}/{args.rounds}: {rates['mint']:.0f} mints/s, "
                f"{rates['raw']:.0f} raw signs/s, ratio {rates['mint'] / rates['raw']:.2f}",
            )
        results.append(mode)

    # What was measured must also be right: every mint recorded, the chain unbroken.
    tokens = IssuedToken.objects.filter(issuer=issuer).count()
    if tokens != minted.value:
        raise RuntimeError(f"{minted.value} mints returned but {tokens} tokens are recorded")
    checked, broken = audit_verify()
    if broken is not None:
        raise RuntimeError(f"the audit chain is broken at #{broken.seq}: {broken.problem}")
    mint_events = AuditEvent.objects.filter(action="token.mint").count()
    if mint_events != tokens:
        raise RuntimeError(f"{mint_events} token.mint audit events for {tokens} tokens")
    return {"backend": backend, "modes": results, "tokens": tokens, "chain": checked}


class Counter:
    """A count that threads add to."""

    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.value += 1


def run_single(operation, seconds: float) -> float:
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        operation()
        count += 1
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def run_threads(operation, seconds: float, threads: int) -> float:
    """Operations per second of ``threads`` threads running ``operation`` for ``seconds``,
    started together once each has its own database connection open."""
    from django.db import connection

    clock: dict[str, float] = {}

    def start_clock() -> None:
        clock["start"] = time.perf_counter()
        clock["deadline"] = clock["start"] + seconds

    barrier = threading.Barrier(threads, action=start_clock)
    counts = [0] * threads
    finished = [0.0] * threads
    errors: list[BaseException] = []

    def body(index: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=60)
            deadline = clock["deadline"]
            while True:
                operation()
                counts[index] += 1
                now = time.perf_counter()
                if now >= deadline:
                    finished[index] = now
                    return
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()
        finally:
            connection.close()

    workers = [threading.Thread(target=body, args=(index,)) for index in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=seconds + 120)
    if any(thread.is_alive() for thread in workers):
        raise RuntimeError("a benchmark thread did not finish (deadlock?)")
    if errors:
        raise RuntimeError(f"{len(errors)} benchmark thread(s) failed") from errors[0]
    return sum(counts) / (max(finished) - clock["start"])


def server_description(connection) -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
            cursor.execute("SHOW synchronous_commit")
            synchronous = cursor.fetchone()[0]
        return f"PostgreSQL {version}, synchronous_commit={synchronous}"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version}, WAL, synchronous=NORMAL"


def log(backend: str, message: str) -> None:
    print(f"[{backend}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
