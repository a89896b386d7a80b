"""The token pages at a million tokens, on SQLite and PostgreSQL, each against a raw SQL
baseline of its own queries.

    .venv/bin/python bench/audit.py [--count N] [--reseed] [--reps N] [--export-reps N]
                                    [--backend sqlite|postgres|all] [--before-tree DIR]
                                    [--drop]

Each backend's database is seeded once by bench/seed.py (PostgreSQL ``bench_audit``, SQLite
``var/bench-audit.sqlite3``) and reused while it holds ``--count`` tokens; ``--reseed`` makes
it again, ``--drop`` removes both at the end.

Measured, per backend, in one process with DEBUG off (no query log; static files collected
into a temporary folder for the manifest storage), as a logged-in Key administrator:

* report      GET /admin/keys/issuedtoken/report/ (test Client: middleware, template, SVG)
* dashboard   keys.selectors.dashboard_figures()
* changelist  GET /admin/keys/issuedtoken/ (first page)
* expiring 7d GET /admin/keys/issuedtoken/?expires_within=7d
* CSV export  GET /admin/keys/issuedtoken/export/csv/, consumed to the end, in a process of its
              own: its wall time and its peak resident memory (VmHWM: RSS, not tracemalloc);
              ``--export-reps 0`` leaves it out

The baseline of each is the very SQL it ran (captured once with CaptureQueriesContext, with
the parameters inlined), executed on the same connection through the raw DB-API cursor with
every row fetched; for the export, the same statements fetched in chunks, in a process of its
own too. Page and baseline alternate, after a warm-up; the medians of ``--reps`` repetitions
are reported, and ratio = page / baseline.

``--before-tree DIR``: a copy of the code before tuning (e.g. ``git archive HEAD | tar -x -C
DIR``). It is measured in the same run, on the same databases, with the keys app migrated
back to that tree's last migration (its indexes only) and forward again afterwards.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import seed  # noqa: E402

RESULT_PREFIX = "AUDIT-RESULT "
BACKENDS = ("sqlite", "postgres")
REPORT_URL = "/admin/keys/issuedtoken/report/"
CHANGELIST_URL = "/admin/keys/issuedtoken/"
EXPORT_URL = "/admin/keys/issuedtoken/export/csv/"
RAW_FETCH = 2000
# (key, label, target ms)
MEASURES = (
    ("report", "report page", 300),
    ("dashboard", "dashboard counts", None),
    ("changelist", "changelist, first page", 300),
    ("expiring", "expiring within 7 days", 50),
)
EXPORT_TARGET_S = 20
EXPORT_TARGET_MB = 150
MAX_RATIO = 2.0


# --- The parent -------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    if args.worker:
        return worker(args)
    if args.export_worker:
        return export_worker(args)

    wanted = BACKENDS if args.backend == "all" else (args.backend,)
    folder = Path(tempfile.mkdtemp(prefix="portal-audit-"))
    try:
        env = {**os.environ, **seed.bench_environment("sqlite://", folder)}
        collectstatic(env)
        variants = (["before"] if args.before_tree else []) + ["after"]
        results: dict[str, dict[str, dict]] = {variant: {} for variant in variants}
        for backend in wanted:
            url = seed.default_url(sqlite=backend == "sqlite")
            count = seed.token_count(url)
            if args.reseed or count != args.count:
                print(f"[{backend}] seeding {args.count} tokens (found {count})", flush=True)
                subprocess.run(
                    [sys.executable, str(ROOT / "bench" / "seed.py"), f"--count={args.count}"]
                    + (["--sqlite"] if backend == "sqlite" else []),
                    cwd=ROOT,
                    check=True,
                )
            for variant in variants:
                tree = Path(args.before_tree).resolve() if variant == "before" else ROOT
                run_env = {**env, "DATABASE_URL": url}
                if variant == "before":
                    # The tree before tuning knows nothing of later migrations: undo them here.
                    migrate(run_env, ROOT, "keys", last_migration(tree))
                print(f"[{backend}] measuring {variant} ({tree})", flush=True)
                results[variant][backend] = run_worker(args, backend, tree, run_env)
        for variant in variants:
            print_table(variant, results[variant], wanted)
        if args.drop:
            for backend in wanted:
                seed.drop_database(seed.default_url(sqlite=backend == "sqlite"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=seed.DEFAULT_COUNT)
    parser.add_argument("--reseed", action="store_true", help="seed even if the count matches")
    parser.add_argument("--reps", type=int, default=5, help="repetitions per measure (5)")
    parser.add_argument(
        "--export-reps", type=int, default=1, help="CSV exports per backend (1; 0: none)"
    )
    parser.add_argument("--backend", choices=(*BACKENDS, "all"), default="all")
    parser.add_argument("--before-tree", help="the code before tuning, measured in the same run")
    parser.add_argument("--drop", action="store_true", help="drop the seeded databases at the end")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--export-worker", choices=("page", "raw"), help=argparse.SUPPRESS)
    parser.add_argument("--tree", default=str(ROOT), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not 1 <= args.reps <= 50:
        parser.error("--reps must be in 1..50")
    if not 0 <= args.export_reps <= 10:
        parser.error("--export-reps must be in 0..10")
    return args


def collectstatic(env: dict) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0", "--skip-checks"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def last_migration(tree: Path) -> str:
    names = sorted(p.stem for p in (tree / "keys" / "migrations").glob("0*.py"))
    return names[-1]


def migrate(env: dict, tree: Path, *target: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", *target, "-v0", "--skip-checks"],
        cwd=tree,
        env=env,
        check=True,
    )


def run_worker(args, backend: str, tree: Path, env: dict) -> dict:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        f"--backend={backend}",
        f"--reps={args.reps}",
        f"--export-reps={args.export_reps}",
        f"--tree={tree}",
    ]
    completed = subprocess.run(
        command, cwd=tree, env=env, stdout=subprocess.PIPE, text=True, check=False
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if completed.returncode != 0 or not lines:
        raise SystemExit(f"[{backend}] the worker failed with status {completed.returncode}")
    return json.loads(lines[-1][len(RESULT_PREFIX) :])


def print_table(variant: str, results: dict[str, dict], backends) -> None:
    def cell(backend: str, key: str, field: str) -> str:
        result = results.get(backend)
        if result is None:
            return "-"
        value = result["measures"][key][field]
        return f"{value:.2f}" if field == "ratio" else f"{value:.1f}"

    header = ["measure"]
    for backend in backends:
        name = "SQLite" if backend == "sqlite" else "PostgreSQL"
        header += [f"{name} ms", "raw ms", "ratio"]
    header += ["target", "verdict"]
    rows = []
    for key, label, target in MEASURES:
        row = [label]
        met = True
        for backend in backends:
            row += [cell(backend, key, f) for f in ("ms", "raw_ms", "ratio")]
            measure = results[backend]["measures"][key]
            met &= measure["ratio"] <= MAX_RATIO and (target is None or measure["ms"] < target)
        row.append(f"< {target} ms, <= {MAX_RATIO:g}x raw" if target else f"<= {MAX_RATIO:g}x raw")
        row.append("met" if met else "MISSED")
        rows.append(row)
    exports = [results[backend]["export"] for backend in backends]
    if all(exports):
        rows += export_rows(exports)
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    print(f"\n{variant.upper()}")
    for index, row in enumerate((header, *rows)):
        print(
            "  ".join(
                str(c).ljust(w) if i in (0, len(row) - 2, len(row) - 1) else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
        if index == 0:
            print("  ".join("-" * w for w in widths))
    for backend, export in zip(backends, exports, strict=True):
        result = results[backend]
        print(
            f"{backend}: {result['server']}; {result['tokens']} tokens; queries per measure: "
            + ", ".join(f"{k} {m['queries']}" for k, m in result["measures"].items())
            + (
                f"; export {export['rows']} rows, {export['mb_idle']:.0f} MB before it started"
                if export
                else ""
            )
        )
    print(
        "ms = median over the repetitions; raw = the same SQL through the DB-API cursor, all "
        "rows fetched; ratio = ms / raw."
    )


def export_rows(exports: list[dict]) -> list[list[str]]:
    export_row, memory_row = ["CSV export (s)"], ["CSV export peak RSS (MB)"]
    seconds_met = memory_met = True
    for export in exports:
        export_row += [f"{export['s']:.1f}", f"{export['raw_s']:.1f}"]
        export_row.append(f"{export['s'] / export['raw_s']:.2f}")
        memory_row += [f"{export['mb']:.0f}", f"{export['raw_mb']:.0f}", "-"]
        seconds_met &= export["s"] < EXPORT_TARGET_S
        memory_met &= export["mb"] < EXPORT_TARGET_MB
    export_row += [f"< {EXPORT_TARGET_S} s", "met" if seconds_met else "MISSED"]
    memory_row += [f"< {EXPORT_TARGET_MB} MB", "met" if memory_met else "MISSED"]
    return [export_row, memory_row]


# --- The worker: one backend, one tree, inside Django ------------------------------------


def django_setup(tree: str) -> None:
    sys.path.insert(0, tree)
    import django

    django.setup()


def logged_in_client():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client

    from keys.roles import KEY_ADMINS

    user, _ = get_user_model().objects.get_or_create(
        username="bench-audit", defaults={"is_staff": True}
    )
    user.groups.add(Group.objects.get(name=KEY_ADMINS))
    client = Client()
    client.force_login(user)
    return client


def worker(args) -> int:
    django_setup(args.tree)
    from django.core.management import call_command
    from django.db import connection

    from keys.models import IssuedToken

    call_command("migrate", verbosity=0, interactive=False, skip_checks=True)
    client = logged_in_client()

    def page(url: str):
        def get():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response.content

        return get

    from keys.selectors import dashboard_figures

    actions = {
        "report": page(REPORT_URL),
        "dashboard": dashboard_figures,
        "changelist": page(CHANGELIST_URL),
        "expiring": page(CHANGELIST_URL + "?expires_within=7d"),
    }
    measures = {}
    for key, action in actions.items():
        measures[key] = measure(key, action, args.reps, args.backend)
    export = measure_export(args) if args.export_reps else None
    result = {
        "backend": args.backend,
        "server": server_description(connection),
        "tokens": IssuedToken.objects.count(),
        "measures": measures,
        "export": export,
    }
    connection.close()
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


def captured_sql(action) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        action()
    return [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].lstrip().upper().startswith(("SELECT", "WITH", "("))
    ]


def run_raw(statements: list[str]) -> list[float]:
    from django.db import connection

    connection.ensure_connection()
    cursor = connection.connection.cursor()
    times = []
    try:
        for sql in statements:
            started = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            times.append(time.perf_counter() - started)
    finally:
        cursor.close()
    return times


def measure(key: str, action, reps: int, backend: str) -> dict:
    action()  # warm-up: templates, caches, the database's own
    statements = captured_sql(action)
    run_raw(statements)
    page_times, raw_times, per_statement = [], [], []
    for rep in range(reps):
        order = ("page", "raw") if rep % 2 == 0 else ("raw", "page")
        for kind in order:
            if kind == "page":
                started = time.perf_counter()
                action()
                page_times.append(time.perf_counter() - started)
            else:
                started = time.perf_counter()
                per_statement.append(run_raw(statements))
                raw_times.append(time.perf_counter() - started)
    ms, raw_ms = statistics.median(page_times) * 1000, statistics.median(raw_times) * 1000
    log(backend, f"{key}: {ms:.1f} ms, raw {raw_ms:.1f} ms, {len(statements)} queries")
    slowest = sorted(
        (
            (statistics.median(times) * 1000, sql)
            for times, sql in zip(zip(*per_statement, strict=False), statements, strict=False)
        ),
        reverse=True,
    )[:3]
    for statement_ms, sql in slowest:
        if statement_ms >= 1:
            log(backend, f"    {statement_ms:8.1f} ms  {sql[:220]}")
    return {"ms": ms, "raw_ms": raw_ms, "ratio": ms / raw_ms, "queries": len(statements)}


def measure_export(args) -> dict:
    """Each export in a fresh process, so that its peak memory is its own."""

    def run(kind: str) -> dict:
        completed = subprocess.run(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                f"--export-worker={kind}",
                f"--tree={args.tree}",
                f"--backend={args.backend}",
            ],
            env=os.environ,
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
        lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
        return json.loads(lines[-1][len(RESULT_PREFIX) :])

    pages = [run("page") for _ in range(args.export_reps)]
    raws = [run("raw") for _ in range(args.export_reps)]
    page = min(pages, key=lambda r: r["s"])
    raw = min(raws, key=lambda r: r["s"])
    log(
        args.backend,
        f"export: {page['s']:.1f} s, {page['mb']:.0f} MB peak RSS ({page['rows']} rows); "
        f"raw {raw['s']:.1f} s, {raw['mb']:.0f} MB",
    )
    return {
        "s": page["s"],
        "mb": page["mb"],
        "mb_idle": page["mb_idle"],
        "rows": page["rows"],
        "raw_s": raw["s"],
        "raw_mb": raw["mb"],
    }


DECLARED = re.compile(r"^DECLARE\s.*?\sCURSOR\s.*?\bFOR\s+", re.IGNORECASE | re.DOTALL)


def vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def export_worker(args) -> int:
    django_setup(args.tree)
    from django.db import connection

    client = logged_in_client()
    idle = vm_hwm_mb()
    if args.export_worker == "page":
        started = time.perf_counter()
        response = client.get(EXPORT_URL)
        assert response.status_code == 200, response.status_code
        size = lines = 0
        for chunk in response.streaming_content:
            size += len(chunk)
            lines += chunk.count(b"\n")
        response.close()
        elapsed = time.perf_counter() - started
        rows = lines - 1  # the header
    else:
        # The export's own SQL: what a short run of it sends (it streams, so stop early).
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            response = client.get(EXPORT_URL)
            next(iter(response.streaming_content))
            next(iter(response.streaming_content))
            response.close()
        # On PostgreSQL iterator() runs its SELECT through a named cursor, which Django
        # records as "DECLARE ... CURSOR WITH HOLD FOR SELECT ...": keep the SELECT.
        statements = [
            DECLARED.sub("", q["sql"].lstrip())
            for q in captured.captured_queries
            if DECLARED.sub("", q["sql"].lstrip()).upper().startswith("SELECT")
        ]
        connection.close()
        connection.ensure_connection()
        raw = connection.connection
        started = time.perf_counter()
        rows = 0
        for index, sql in enumerate(statements):
            if connection.vendor == "postgresql":
                # A server-side cursor, as the export's iterator() uses.
                with raw.transaction(), raw.cursor(name=f"audit_raw_{index}") as cursor:
                    cursor.execute(sql)
                    while batch := cursor.fetchmany(RAW_FETCH):
                        rows += len(batch)
            else:
                cursor = raw.cursor()
                cursor.execute(sql)
                while batch := cursor.fetchmany(RAW_FETCH):
                    rows += len(batch)
                cursor.close()
        elapsed = time.perf_counter() - started
    result = {"s": elapsed, "mb": vm_hwm_mb(), "mb_idle": idle, "rows": rows}
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


def server_description(connection) -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0]}"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version}"


def log(backend: str, message: str) -> None:
    print(f"[{backend}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
