"""Requests per second of the REST API on a production-like stack: minting, as a ratio to a
sign-only endpoint that does everything a mint does except record it, and verifying.

    .venv/bin/python bench/api.py [--seconds N] [--rounds N] [--warmup N] [--keep-db]

The stack: PostgreSQL on 127.0.0.1:5432 (user postgres) with a fresh database ``bench_api``,
gunicorn with 2 sync workers on a free port of 127.0.0.1, DJANGO_DEBUG=0 and the production
settings the system checks ask for (secrets of this run only), throttling on at rates that are
never reached. The database is seeded through the management commands: a user in the role
"Key administrators" (no superuser), issuer ``bench`` with a 2048-bit key, an API token.

gunicorn runs with ``bench.settings``, which adds ``POST /api/v1/bench/sign/``
(bench/sign_view.py): the same authentication, permission, throttle, validation, key lookup,
claims and signature as ``POST /api/v1/tokens/``, without the token row and the audit event.
The product's own settings have no such endpoint.

``wrk`` (Debian package ``wrk``) loads each endpoint with 2 threads and 8 connections:
sign-only, mint and verify (``POST /api/v1/tokens/verify/`` of a token minted at the start),
after a short warm-up, in rounds, so that the mint/sign-only ratio is measured side by side
whatever else the machine is doing; the median over the rounds is reported. A response other
than the expected status (201, 201, 200 and an accepted token) or a socket error ends the run
with an error instead of being counted. Afterwards every counted mint must be recorded and the
audit chain must verify.

Targets: mint/sign-only ratio >= 0.6 and mint p99 < 25 ms; missing them is reported, not an
error. The exit status is non-zero only when something fails.
"""

import argparse
import contextlib
import http.client
import io
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
PG_MAINTENANCE_DB = "postgres"
PG_BENCH_DB = "bench_api"
WORKERS = 2
WRK_THREADS, WRK_CONNECTIONS = 2, 8
ISSUER = "bench"
BENCH_USER = "bench"
THROTTLE_RATE = "1000000/min"
TARGET_RATIO = 0.6
TARGET_P99_MS = 25.0
RESULT_PREFIX = "BENCH-RESULT "
STATUS_PREFIX = "BENCH-STATUS "


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    expected_status: int
    # A fragment every answer must contain: a verify that answers 200 but refuses the token
    # would otherwise be counted as a fast verify.
    must_contain: str = ""


SIGN = Endpoint("sign-only", "/api/v1/bench/sign/", 201)
MINT = Endpoint("mint", "/api/v1/tokens/", 201)
VERIFY = Endpoint("verify", "/api/v1/tokens/verify/", 200, must_contain='"accepted":true')
ENDPOINTS = (SIGN, MINT, VERIFY)


class BenchError(Exception):
    pass


# --- The parent: database, server, load, table ----------------------------------------------


def main() -> int:
    args = parse_args()
    if args.seed:
        return seed()
    if args.check:
        return check()

    wrk = shutil.which("wrk")
    if wrk is None:
        print(
            "wrk is not installed: `apt-get install wrk` (Debian package wrk), then run again.",
            file=sys.stderr,
        )
        return 2
    print(
        f"The REST API under gunicorn ({WORKERS} sync workers) and PostgreSQL, loaded by wrk "
        f"({WRK_THREADS} threads, {WRK_CONNECTIONS} connections): {args.rounds} rounds of "
        f"{args.seconds} s per endpoint after {args.warmup} s of warm-up each; the median of "
        "each is reported.",
        flush=True,
    )
    folder = Path(tempfile.mkdtemp(prefix="portal-bench-api-"))
    server = None
    try:
        env = production_env(folder)
        log(f"creating database {PG_BENCH_DB}")
        pg_recreate_database()
        log("migrating and seeding it through the management commands")
        seeded = run_worker("--seed", env)
        server = Server(env, folder)
        server.start()
        log(f"gunicorn is up on {server.url} ({WORKERS} sync workers)")
        result = measure(args, wrk, server, seeded["api_key"], folder)
        server.stop()
        server = None
        checked = run_worker("--check", env)
        verify_records(result, checked)
    except BenchError as exc:
        print(f"FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        if server is not None:
            server.stop()
        if args.keep_db:
            print(
                f"\nThe database is kept: {database_url()} (its private key is encrypted under "
                "a PORTAL_ENCRYPTION_KEYS of this run only, which is gone)."
            )
        else:
            pg_drop_database()
        shutil.rmtree(folder, ignore_errors=True)
    print_table(result, checked)
    return 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds", type=int, default=5, help="length of one measurement (default 5)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="sign-only/mint/verify measurements each; the median is reported (default 3)",
    )
    parser.add_argument(
        "--warmup", type=int, default=2, help="seconds of load per endpoint first (default 2)"
    )
    parser.add_argument(
        "--keep-db", action="store_true", help=f"keep the database {PG_BENCH_DB} afterwards"
    )
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not 1 <= args.seconds <= 60:
        parser.error("--seconds must be in 1..60")
    if not 1 <= args.rounds <= 15:
        parser.error("--rounds must be in 1..15")
    if not 0 <= args.warmup <= 30:
        parser.error("--warmup must be in 0..30")
    return args


def database_url() -> str:
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_BENCH_DB}"


def production_env(folder: Path) -> dict[str, str]:
    from cryptography.fernet import Fernet

    (folder / "neuronex-etc").mkdir()
    (folder / "cache").mkdir()
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url(),
        # Production: DEBUG off (no query log, no invented secrets); secrets of this run only.
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "PORTAL_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on 127.0.0.1: in production TLS ends at a proxy in front of the portal.
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "NEURONEX_ETC_DIR": str(folder / "neuronex-etc"),
        # The throttle counters of this run, not those of the checkout's var/cache.
        "PORTAL_CACHE_DIR": str(folder / "cache"),
        # Throttling stays on the code path of every request but never refuses one.
        "PORTAL_THROTTLE_MINT": THROTTLE_RATE,
        "PORTAL_THROTTLE_VERIFY": THROTTLE_RATE,
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def _pg_admin():
    import psycopg

    return psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_MAINTENANCE_DB, autocommit=True
    )


def pg_recreate_database() -> None:
    try:
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{PG_BENCH_DB}"')
    except Exception as exc:
        raise BenchError(
            f"cannot create database {PG_BENCH_DB} on {PG_HOST}:{PG_PORT} as {PG_USER}: {exc}"
        ) from exc


def pg_drop_database() -> None:
    try:
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')
    except Exception as exc:
        print(f"could not drop database {PG_BENCH_DB}: {exc}", file=sys.stderr)


def run_worker(flag: str, env: dict[str, str]) -> dict:
    """This script again with ``flag``, inside Django with the server's environment: Django
    reads its settings once per process, and this one has none."""
    try:
        completed = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), flag],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            timeout=300,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"`{Path(__file__).name} {flag}` did not finish within 300 s") from exc
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if completed.returncode != 0 or not lines:
        raise BenchError(f"`{Path(__file__).name} {flag}` exited with {completed.returncode}")
    return json.loads(lines[-1][len(RESULT_PREFIX) :])


class Server:
    """gunicorn serving portal.wsgi with bench.settings, as a deployment would run it."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env = env
        self.log_path = folder / "gunicorn.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "portal.wsgi:application",
            f"--workers={WORKERS}",
            "--worker-class=sync",
            f"--bind=127.0.0.1:{self.port}",
            "--log-level=warning",
            "--error-logfile=-",
        ]
        # gunicorn's log and Django's (tracebacks, refused requests) in one file, whose tail
        # a failure shows. Its own session, so that a kill reaches the workers and nothing else.
        with self.log_path.open("ab") as log_file:
            self.process = subprocess.Popen(
                command,
                env=self.env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(
                    f"gunicorn exited with {self.process.returncode} before answering /healthz"
                    + self.log_tail()
                )
            with contextlib.suppress(OSError):
                if self.request("GET", "/healthz", timeout=2)[0] == 200:
                    return
            time.sleep(0.2)
        raise BenchError("gunicorn did not answer /healthz with 200 within 60 s" + self.log_tail())

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # the arbiter stops its workers gracefully
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def request(
        self, method: str, path: str, body: dict | None = None, api_key: str = "", timeout=10
    ) -> tuple[int, dict]:
        """One request on a connection of its own; the answer's status and JSON body."""
        headers = {"Content-Type": "application/json"}
        if api_key:
            headers["Authorization"] = f"Token {api_key}"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        try:
            return response.status, json.loads(raw)
        except ValueError:
            return response.status, {"body": raw.decode(errors="replace")[:500]}

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        tail = "\n".join(text.splitlines()[-lines:])
        return f"\n--- gunicorn log (last {lines} lines) ---\n{tail}" if tail else ""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def measure(args: argparse.Namespace, wrk: str, server: Server, api_key: str, folder: Path):
    mint_body = {"issuer": ISSUER, "label": "bench", "ttl": "1h"}
    answers = {}
    for endpoint in (MINT, SIGN):
        answers[endpoint.name] = expect(
            server, endpoint, server.request("POST", endpoint.path, mint_body, api_key)
        )
    if set(answers[SIGN.name]) != set(answers[MINT.name]):
        raise BenchError(
            f"sign-only answers with {sorted(answers[SIGN.name])}, "
            f"a mint with {sorted(answers[MINT.name])}"
        )
    verify_body = {"token": answers[MINT.name]["token"]}
    verified = expect(server, VERIFY, server.request("POST", VERIFY.path, verify_body, api_key))
    if verified.get("accepted") is not True:
        raise BenchError(f"the token minted at the start does not verify: {verified}")
    log("one request each: sign-only 201, mint 201, verify 200 (accepted)")

    bodies = {SIGN.name: mint_body, MINT.name: mint_body, VERIFY.name: verify_body}
    scripts = {
        endpoint.name: write_script(folder, endpoint, bodies[endpoint.name], api_key)
        for endpoint in ENDPOINTS
    }

    def load(endpoint: Endpoint, seconds: int) -> dict:
        run = run_wrk(wrk, server, endpoint, scripts[endpoint.name], seconds)
        if server.process.poll() is not None:
            raise BenchError("gunicorn died during the load" + server.log_tail())
        return run

    mints_counted = 1  # the check's mint above
    if args.warmup:
        for endpoint in ENDPOINTS:
            run = load(endpoint, args.warmup)
            if endpoint is MINT:
                mints_counted += run["requests"]
        log(f"warmed up ({args.warmup} s per endpoint)")

    runs = {endpoint.name: [] for endpoint in ENDPOINTS}
    ratios = []
    mint_runs = 0
    for round_number in range(args.rounds):
        # Alternate the order around the mint, so that a drift in the machine's load and the
        # growing token table even out between sign-only and verify.
        order = (SIGN, MINT, VERIFY) if round_number % 2 == 0 else (VERIFY, MINT, SIGN)
        done = {}
        for endpoint in order:
            done[endpoint.name] = load(endpoint, args.seconds)
            runs[endpoint.name].append(done[endpoint.name])
        mints_counted += done[MINT.name]["requests"]
        mint_runs += 1
        ratio = done[MINT.name]["rps"] / done[SIGN.name]["rps"]
        ratios.append(ratio)
        log(
            f"round {round_number + 1}/{args.rounds}: "
            + ", ".join(
                f"{name} {run['rps']:.0f}/s p99 {run['p99_ms']:.1f} ms"
                for name, run in done.items()
            )
            + f"; mint/sign-only {ratio:.2f}"
        )
    return {
        "runs": runs,
        "ratios": ratios,
        "mints_counted": mints_counted,
        # wrk stops with up to one request per connection in flight, which the server may
        # still complete and record: the slack allowed between counted and recorded mints.
        "mint_slack": WRK_CONNECTIONS * (mint_runs + (1 if args.warmup else 0)),
    }


def expect(server: Server, endpoint: Endpoint, answer: tuple[int, dict]) -> dict:
    status, body = answer
    if status != endpoint.expected_status:
        raise BenchError(
            f"{endpoint.name} (POST {endpoint.path}) answered {status}, expected "
            f"{endpoint.expected_status}: {body}" + server.log_tail()
        )
    return body


def lua_string(text: str) -> str:
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


# Counts every answer that is not the expected one in each wrk thread; done() adds them up and
# prints one line that run_wrk parses. wrk's own "Non-2xx or 3xx" count lets a 3xx through.
LUA_TEMPLATE = """\
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = {authorization}

local expected_status = {status}
local must_contain = {must_contain}
local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  unexpected = 0
  first = ""
end

function response(status, headers, body)
  if status ~= expected_status
      or (must_contain ~= "" and not string.find(body or "", must_contain, 1, true)) then
    unexpected = unexpected + 1
    if first == "" then
      first = status .. " " .. string.sub(string.gsub(body or "", "%s+", " "), 1, 300)
    end
  end
end

function done(summary, latency, requests)
  local total, example = 0, ""
  for _, thread in ipairs(threads) do
    total = total + thread:get("unexpected")
    if example == "" then example = thread:get("first") end
  end
  io.write("{prefix}" .. total .. " " .. example .. "\\n")
end
"""


def write_script(folder: Path, endpoint: Endpoint, body: dict, api_key: str) -> Path:
    path = folder / f"{endpoint.name}.lua"
    path.write_text(
        LUA_TEMPLATE.format(
            body=lua_string(json.dumps(body)),
            authorization=lua_string(f"Token {api_key}"),
            status=endpoint.expected_status,
            must_contain=lua_string(endpoint.must_contain),
            prefix=STATUS_PREFIX,
        )
    )
    path.chmod(0o600)  # it holds the API key
    return path


def run_wrk(wrk: str, server: Server, endpoint: Endpoint, script: Path, seconds: int) -> dict:
    command = [
        wrk,
        f"-t{WRK_THREADS}",
        f"-c{WRK_CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout=5s",
        "--latency",
        "-s",
        str(script),
        server.url + endpoint.path,
    ]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    output = completed.stdout
    if completed.returncode != 0:
        raise BenchError(
            f"wrk on {endpoint.name} exited with {completed.returncode}: "
            f"{completed.stderr.strip() or output.strip()}"
        )
    return parse_wrk(endpoint, output, server)


def parse_wrk(endpoint: Endpoint, output: str, server: Server) -> dict:
    def find(pattern: str) -> re.Match:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            raise BenchError(f"no {pattern!r} in the output of wrk on {endpoint.name}:\n{output}")
        return match

    problems = []
    status_line = find(rf"^{STATUS_PREFIX}(\d+) ?(.*)$")
    if int(status_line.group(1)):
        problems.append(
            f"{status_line.group(1)} unexpected answers, the first: {status_line.group(2)}"
        )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        problems.append(f"{non_2xx.group(1)} non-2xx/3xx responses")
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if socket_errors and any(int(count) for count in socket_errors.groups()):
        problems.append(f"socket errors: {socket_errors.group(0).split(': ', 1)[1]}")
    if problems:
        raise BenchError(
            f"{endpoint.name} (POST {endpoint.path}) under load: "
            + "; ".join(problems)
            + server.log_tail()
        )
    requests = int(find(r"^\s*(\d+) requests in ").group(1))
    if requests == 0:
        raise BenchError(f"wrk completed no request on {endpoint.name}:\n{output}")
    return {
        "rps": float(find(r"^Requests/sec:\s*([\d.]+)").group(1)),
        "p99_ms": to_ms(*find(r"^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$").groups()),
        "requests": requests,
    }


def to_ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def verify_records(result: dict, checked: dict) -> None:
    """What was measured must also have happened: each counted mint recorded with its audit
    event, the chain unbroken, and nothing recorded by sign-only."""
    counted, tokens = result["mints_counted"], checked["tokens"]
    if not counted <= tokens <= counted + result["mint_slack"]:
        raise BenchError(
            f"{counted} mints were answered 201 but {tokens} tokens are recorded "
            f"(at most {result['mint_slack']} more may have completed after wrk stopped)"
        )
    if checked["mint_events"] != tokens:
        raise BenchError(f"{checked['mint_events']} token.mint audit events for {tokens} tokens")
    if checked["broken"]:
        raise BenchError(f"the audit chain is broken: {checked['broken']}")


def print_table(result: dict, checked: dict) -> None:
    header = ("endpoint", "req/s", "req/s range", "p99 ms", "p99 range", "vs sign-only", "target")
    rows = []
    for endpoint in ENDPOINTS:
        runs = result["runs"][endpoint.name]
        rates = [run["rps"] for run in runs]
        p99s = [run["p99_ms"] for run in runs]
        p99 = statistics.median(p99s)
        ratio, target = "-", "-"
        if endpoint is MINT:
            median_ratio = statistics.median(result["ratios"])
            ratio = f"{median_ratio:.2f} ({min(result['ratios']):.2f}-{max(result['ratios']):.2f})"
            target = (
                f"ratio >= {TARGET_RATIO:.1f} {'met' if median_ratio >= TARGET_RATIO else 'MISSED'}"
                f", p99 < {TARGET_P99_MS:.0f} ms {'met' if p99 < TARGET_P99_MS else 'MISSED'}"
            )
        rows.append(
            (
                endpoint.name,
                f"{statistics.median(rates):.0f}",
                f"{min(rates):.0f}-{max(rates):.0f}",
                f"{p99:.1f}",
                f"{min(p99s):.1f}-{max(p99s):.1f}",
                ratio,
                target,
            )
        )
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    print()
    for index, row in enumerate((header, *rows)):
        cells = [
            str(cell).ljust(width) if column in (0, 6) else str(cell).rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))
    print()
    print(
        f"{checked['server']}; gunicorn {WORKERS} sync workers, wrk -t{WRK_THREADS} "
        f"-c{WRK_CONNECTIONS}; {checked['tokens']} tokens minted, audit chain of "
        f"{checked['chain']} events verified."
    )
    mint_rate = statistics.median(run["rps"] for run in result["runs"][MINT.name])
    print(
        f"With {WRK_CONNECTIONS} connections always busy, the mean latency is "
        f"{WRK_CONNECTIONS} / req/s (Little's law): {1000 * WRK_CONNECTIONS / mint_rate:.0f} ms "
        f"for mint; a p99 under {TARGET_P99_MS:.0f} ms needs well over "
        f"{1000 * WRK_CONNECTIONS / TARGET_P99_MS:.0f} req/s."
    )
    print(
        "req/s and p99 are medians over the rounds; vs sign-only = mint req/s / sign-only req/s "
        "in the same round (median, range).\nsign-only = a mint without the token row and the "
        "audit event (bench/sign_view.py)."
    )


def log(message: str) -> None:
    print(f"[api] {message}", file=sys.stderr, flush=True)


# --- The workers: inside Django, with the server's settings ---------------------------------


def seed() -> int:
    import django

    django.setup()

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from keys.roles import KEY_ADMINS

    call_command("migrate", verbosity=0, interactive=False)
    User = get_user_model()
    # A role, not a superuser: RolePermission's has_perm goes through the group's permissions
    # on every request, as it does for the scripts the API serves.
    user = User.objects.create_user(username=BENCH_USER)
    user.groups.add(Group.objects.get(name=KEY_ADMINS))
    quiet = io.StringIO()
    call_command("create_issuer", ISSUER, stdout=quiet)
    call_command("generate_key", ISSUER, "--bits=2048", stdout=quiet)
    out = io.StringIO()
    call_command("create_api_token", BENCH_USER, stdout=out)
    print(RESULT_PREFIX + json.dumps({"api_key": out.getvalue().strip()}), flush=True)
    return 0


def check() -> int:
    import django

    django.setup()

    from django.db import connection

    from keys.models import AuditEvent, IssuedToken
    from keys.services.audit import audit_verify

    chain, broken = audit_verify()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        cursor.execute("SHOW synchronous_commit")
        synchronous = cursor.fetchone()[0]
    result = {
        "tokens": IssuedToken.objects.count(),
        "mint_events": AuditEvent.objects.filter(action="token.mint").count(),
        "chain": chain,
        "broken": f"#{broken.seq}: {broken.problem}" if broken else None,
        "server": f"PostgreSQL {version}, synchronous_commit={synchronous}",
    }
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
