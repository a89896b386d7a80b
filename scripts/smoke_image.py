"""Run the Docker image's command from the checkout and walk the portal's main path over HTTP.

Usage: python scripts/smoke_image.py   (with DATABASE_URL=postgres://... to use that server)

No Docker engine runs in CI, so this proves what can be proved without one: it reads the final
stage's ENTRYPOINT and CMD (JSON form), its build-time collectstatic RUN and its HEALTHCHECK from
the Dockerfile, and runs exactly those from the repository root, as the image's WORKDIR, with this
interpreter's folder first on PATH (the image's /opt/venv/bin). The settings are production ones:
DJANGO_DEBUG off, fresh secrets, the migrations applied by the entrypoint, a fresh database (a
SQLite file, or the database portal_smoke made and dropped on DATABASE_URL's server) and
temporary folders for the keys, the static files and the cache. Every request says it came
through a TLS-terminating proxy (X-Forwarded-Proto: https), as a deployment's would.

Each step prints one line. A failure prints what was expected and what came back, then the
server's output, and exits 1; so does a traceback in the server's output. The server is stopped
and the temporary data removed in any case.
"""

import contextlib
import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.client import HTTPMessage
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import jwt
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SMOKE_DATABASE = "portal_smoke"
ISSUER = "smoke-plant"
KEY_ADMIN = "smoke-key-admin"
SECRETS = ("DJANGO_SECRET_KEY", "PORTAL_ENCRYPTION_KEYS")
PRIVATE_KEY = re.compile(
    r"-----BEGIN[A-Z ]* PRIVATE KEY-----.*?(?:-----END[A-Z ]* PRIVATE KEY-----|$)", re.S
)

# Make a user in the Key administrators group: no management command does that.
CREATE_KEY_ADMIN = f"""
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from keys.roles import KEY_ADMINS

user = get_user_model().objects.create_user({KEY_ADMIN!r}, is_staff=True)
user.groups.add(Group.objects.get(name=KEY_ADMINS))
"""


class SmokeFailure(Exception):
    server_output = ""


def step(line: str) -> None:
    print(f"ok    {line}", flush=True)


def excerpt(text: str, limit: int = 600) -> str:
    text = PRIVATE_KEY.sub("[a private key, withheld]", text)
    return text if len(text) <= limit else text[:limit] + " [...]"


# --- The Dockerfile -------------------------------------------------------------------------


@dataclass
class ImageCommands:
    entrypoint: list[str]
    cmd: list[str]
    healthcheck: list[str]
    collectstatic_env: dict[str, str]
    collectstatic: list[str]


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, its arguments) in order, continuation lines joined, comments dropped."""
    found, pending = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        found.append((keyword.upper(), arguments.strip()))
        pending = ""
    return found


def exec_form(keyword: str, arguments: str) -> list[str]:
    try:
        value = json.loads(arguments)
    except json.JSONDecodeError:
        value = None
    if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        raise SmokeFailure(f"{keyword} must be in JSON exec form, got: {arguments}")
    return value


def image_commands(dockerfile: Path) -> ImageCommands:
    found = instructions(dockerfile.read_text())
    starts = [i for i, (keyword, _) in enumerate(found) if keyword == "FROM"]
    final = found[starts[-1] if starts else 0 :]
    last = {keyword: arguments for keyword, arguments in final}
    for keyword in ("ENTRYPOINT", "CMD", "HEALTHCHECK"):
        if keyword not in last:
            raise SmokeFailure(f"the Dockerfile's final stage has no {keyword}")
    _, _, probe = last["HEALTHCHECK"].partition("CMD ")
    runs = [args for keyword, args in final if keyword == "RUN" and "collectstatic" in args]
    if len(runs) != 1:
        raise SmokeFailure(f"expected one collectstatic RUN in the final stage, found {len(runs)}")
    if runs[0].startswith("[") or re.search(r"[;&|`$]", runs[0]):
        raise SmokeFailure(f"the collectstatic RUN must be one plain command, got: {runs[0]}")
    words = shlex.split(runs[0])
    assignments = {}
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
        name, _, value = words.pop(0).partition("=")
        assignments[name] = value
    return ImageCommands(
        entrypoint=exec_form("ENTRYPOINT", last["ENTRYPOINT"]),
        cmd=exec_form("CMD", last["CMD"]),
        healthcheck=exec_form("HEALTHCHECK CMD", probe),
        collectstatic_env=assignments,
        collectstatic=words,
    )


# --- The environment ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def fresh_database(folder: Path):
    """A database URL for an empty database, dropped afterwards."""
    given = os.environ.get("DATABASE_URL", "")
    if not given:
        yield f"sqlite:///{folder / 'portal.sqlite3'}", "SQLite"
        return
    import psycopg
    from psycopg import sql

    parts = urlsplit(given)
    if parts.scheme not in ("postgres", "postgresql"):
        raise SmokeFailure(f"DATABASE_URL must be a PostgreSQL URL, got scheme {parts.scheme!r}")
    server = urlunsplit(parts._replace(path="/postgres"))  # the database every server has
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(SMOKE_DATABASE))
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(drop)  # a run killed before it could clean up
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(SMOKE_DATABASE)))
    try:
        yield urlunsplit(parts._replace(path=f"/{SMOKE_DATABASE}")), f"PostgreSQL {SMOKE_DATABASE}"
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(drop)


def production_env(folder: Path, database_url: str, port: int) -> dict[str, str]:
    for name in ("etc", "static", "cache"):
        (folder / name).mkdir()
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "PORTAL_", "GUNICORN_", "NEURONEX_"))
        and name != "DATABASE_URL"
    }
    return {
        **inherited,
        "PATH": f"{BIN}{os.pathsep}{inherited.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "PORTAL_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
        "DATABASE_URL": database_url,
        "NEURONEX_ETC_DIR": str(folder / "etc"),
        "DJANGO_STATIC_ROOT": str(folder / "static"),
        "PORTAL_CACHE_DIR": str(folder / "cache"),
        "PORTAL_MIGRATE_ON_START": "true",
        "PORTAL_BIND": f"127.0.0.1:{port}",
    }


def run(argv: list[str], env: dict[str, str], what: str) -> str:
    result = subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if result.returncode != 0:
        raise SmokeFailure(
            f"{what}: expected exit status 0, got {result.returncode}\n"
            f"{excerpt(result.stdout + result.stderr, 4000)}"
        )
    return result.stdout


# --- HTTP -----------------------------------------------------------------------------------


class NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect is an answer to check (the HTTPS redirect, say), not one to follow.
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirects)


@dataclass
class Answer:
    status: int
    headers: HTTPMessage  # case-insensitive
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            raise SmokeFailure(f"expected JSON, got: {excerpt(self.text)}") from None


class Client:
    def __init__(self, base: str):
        self.base = base
        self.api_token = ""

    def call(self, method: str, path: str, payload: dict | None = None) -> Answer:
        headers = {"X-Forwarded-Proto": "https"}
        if self.api_token:
            headers["Authorization"] = f"Token {self.api_token}"
        data = None
        if payload is not None:
            data = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(  # noqa: S310 (our own http://127.0.0.1 address)
            self.base + path, data=data, headers=headers, method=method
        )
        try:
            with OPENER.open(request, timeout=60) as response:
                return Answer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.headers, error.read())

    def expect(self, method: str, path: str, status: int, payload: dict | None = None) -> Answer:
        answer = self.call(method, path, payload)
        if answer.status != status:
            location = answer.headers.get("Location")
            raise SmokeFailure(
                f"{method} {path}: expected {status}, got {answer.status}"
                + (f" (Location: {location})" if location else "")
                + f"\n{excerpt(answer.text)}"
            )
        return answer

    def expect_json(
        self, method: str, path: str, status: int, payload: dict | None, fields: tuple[str, ...]
    ) -> dict:
        body = self.expect(method, path, status, payload).json()
        missing = [name for name in fields if not isinstance(body, dict) or name not in body]
        check(not missing, f"{method} {path} to answer with {', '.join(fields)}", body)
        return body


def check(condition: bool, what: str, got: object) -> None:
    if not condition:
        raise SmokeFailure(f"expected {what}, got: {excerpt(str(got))}")


# --- The server -----------------------------------------------------------------------------


def wait_until_up(client: Client, server: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SmokeFailure(
                f"the server exited with status {server.returncode} before it answered"
            )
        try:
            client.call("GET", "/healthz")
            return
        except OSError:
            time.sleep(0.3)
    raise SmokeFailure(f"the server did not answer within {seconds:.0f} s")


def stop(server: subprocess.Popen) -> int:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)  # what docker stop sends
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)  # its own session: only what it started
            server.wait()
    return server.returncode


# --- The flow -------------------------------------------------------------------------------


def walk(client: Client, image: ImageCommands, env: dict[str, str], etc: Path) -> None:
    health = client.expect_json("GET", "/healthz", 200, None, ("status",))
    check(health["status"] == "ok", '/healthz {"status": "ok"}', health)
    step(f"GET /healthz: 200 {json.dumps(health)}")

    run(image.healthcheck, env, "the HEALTHCHECK command")
    step("HEALTHCHECK's command: exit status 0")

    login = client.expect("GET", "/admin/login/", 200).text
    for marker in ("<form", 'name="username"', 'name="password"', "csrfmiddlewaretoken"):
        check(marker in login, f"the login page to contain {marker!r}", login)
    step("GET /admin/login/: 200 with the login form")

    stylesheet = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', login)
    check(stylesheet is not None, "a hashed (manifest) stylesheet in the login page", login)
    css = client.expect("GET", stylesheet.group(1), 200)
    check("text/css" in css.headers.get("Content-Type", ""), "text/css", css.headers)
    step(f"GET {stylesheet.group(1)}: 200 text/css")

    manage = ["python", "manage.py"]
    run([*manage, "shell", "--no-imports", "-c", CREATE_KEY_ADMIN], env, "manage.py shell")
    key = run([*manage, "create_api_token", KEY_ADMIN, "--expires-in", "1d"], env, "token")
    client.api_token = key.strip()
    check(bool(client.api_token), "an API token on create_api_token's stdout", key)
    step(f"manage.py: {KEY_ADMIN!r} in Key administrators, and an API token for it")

    issuer = client.expect_json(
        "POST", "/api/v1/issuers/", 201, {"name": ISSUER}, ("name", "iss", "key_file")
    )
    step(f"POST /api/v1/issuers/: 201 iss={issuer['iss']!r} key_file={issuer['key_file']!r}")

    path = f"/api/v1/issuers/{ISSUER}/keys/"
    key_pair = client.expect_json("POST", path, 201, {"bits": 2048}, ("kid", "status"))
    check(key_pair["status"] == "active", "an active key pair", key_pair)
    step(f"POST {path}: 201 kid={key_pair['kid']}")

    path = f"/api/v1/issuers/{ISSUER}/public.pem"
    public_pem = client.expect("GET", path, 200).body
    check(public_pem.startswith(b"-----BEGIN PUBLIC KEY-----"), "a public key PEM", public_pem)
    exported = etc / issuer["key_file"]
    check(exported.is_file(), f"the exported file {exported}", sorted(os.listdir(etc)))
    check(exported.read_bytes() == public_pem, f"{exported} to hold the API's key", exported)
    step(f"GET {path}: 200, the same key as NEURONEX_ETC_DIR/{issuer['key_file']}")

    mint = {"issuer": ISSUER, "label": "smoke test", "ttl": "1h"}
    fields = ("token", "jti", "iss", "aud", "exp")
    minted = client.expect_json("POST", "/api/v1/tokens/", 201, mint, fields)
    step(f"POST /api/v1/tokens/: 201 jti={minted['jti']} aud={minted['aud']!r}")

    header = jwt.get_unverified_header(minted["token"])
    check(header == {"alg": "RS256", "typ": "JWT"}, "the header NeuronEX expects", header)
    try:
        claims = jwt.decode(
            minted["token"],
            public_pem,
            algorithms=["RS256"],
            audience=minted["aud"],
            issuer=minted["iss"],
            options={"require": ["iss", "aud", "iat", "exp", "jti"]},
        )
    except jwt.InvalidTokenError as exc:
        raise SmokeFailure(f"expected a token the public key verifies, got: {exc}") from exc
    check(claims["jti"] == minted["jti"], f"jti {minted['jti']}", claims)
    step("PyJWT: the RS256 signature verifies with the downloaded public key")

    path = f"/api/v1/tokens/{minted['jti']}/revoke/"
    fields = ("status", "revoke_reason", "notice", "still_accepted_until")
    revoked = client.expect_json("POST", path, 200, {"reason": "smoke test"}, fields)
    check(revoked["status"] == "revoked", 'status "revoked"', revoked)
    check(revoked["revoke_reason"] == "smoke test", "the reason given", revoked)
    check(bool(revoked["notice"]), "a notice of how long NeuronEX still accepts it", revoked)
    step(f"POST {path}: 200 revoked, still accepted until {revoked['still_accepted_until']}")


def check_log_lines(output: str) -> None:
    """Production logs: every line a JSON object (the migrations' progress, which manage.py
    prints, aside), and each request's line with the id its response carried."""
    records = []
    for line in output.splitlines():
        if not line.strip() or line.startswith(("  Apply", "Operations to perform", "Running")):
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            raise SmokeFailure(f"a log line that is not JSON: {line[:300]!r}") from None
    requests = [record for record in records if record.get("logger") == "gunicorn.access"]
    check(bool(requests), "gunicorn's request lines among the logs", output[-2000:])
    missing = [record for record in requests if not record.get("request_id")]
    check(not missing, "a request_id in every request line", missing[:3])
    step(f"the server's output: {len(records)} JSON log lines, {len(requests)} requests with ids")


def serve_and_walk(image: ImageCommands, env: dict[str, str], folder: Path, database: str):
    log_path = folder / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [*image.entrypoint, *image.cmd],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        try:
            client = Client(f"http://{env['PORTAL_BIND']}")
            wait_until_up(client, server)
            step(f"{' '.join(image.entrypoint)}: migrated ({database}), serving {client.base}")
            walk(client, image, env, Path(env["NEURONEX_ETC_DIR"]))
        finally:
            status = stop(server)
        check(status == 0, "exit status 0 after SIGTERM (docker stop)", status)
        step("SIGTERM (docker stop): the server stopped with exit status 0")
        if "Traceback" in log_path.read_text():
            raise SmokeFailure("the server's output holds a traceback")
        step("the server's output holds no traceback")
        check_log_lines(log_path.read_text())
    except SmokeFailure as failure:
        lines = log_path.read_text().splitlines()
        failure.server_output = excerpt("\n".join(lines[-400:]), 200_000)
        raise


def smoke() -> None:
    image = image_commands(ROOT / "Dockerfile")
    step(f"Dockerfile: ENTRYPOINT {image.entrypoint} CMD {image.cmd}")
    with tempfile.TemporaryDirectory(prefix="portal-smoke-") as tmp:
        folder = Path(tmp)
        with fresh_database(folder) as (database_url, database):
            env = production_env(folder, database_url, free_port())
            # As at build time: none of the secrets, only the RUN line's own variables.
            build_env = {name: value for name, value in env.items() if name not in SECRETS}
            run(image.collectstatic, {**build_env, **image.collectstatic_env}, "collectstatic")
            collected = sum(1 for path in (folder / "static").rglob("*") if path.is_file())
            step(f"{shlex.join(image.collectstatic)}, without secrets: {collected} files")
            serve_and_walk(image, env, folder, database)


def main() -> int:
    # So that a CI timeout's SIGTERM still stops the server and drops the database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        smoke()
    except SmokeFailure as failure:
        print(f"FAIL  {failure}", file=sys.stderr)
        if failure.server_output:
            print(f"\n--- the server's output ---\n{failure.server_output}", file=sys.stderr)
        return 1
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
