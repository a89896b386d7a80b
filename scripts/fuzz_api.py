"""Fuzz the REST API with schemathesis against a live gunicorn: no request may get a 5xx.

Usage: python scripts/fuzz_api.py [--max-examples N] [--seed N]

It serves a throwaway portal (production settings, its own SQLite database, export folder and
keys, all in a temporary folder), seeded with an issuer, an active key, a token and an export
target, and lets schemathesis send what the schema allows and what it does not, as a Key
administrator, whose role reaches every operation. Exits non-zero when schemathesis finds a
failure or the server logged an error.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def portal_env(folder: Path) -> dict[str, str]:
    (folder / "etc").mkdir()
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PORTAL_"))},
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": Fernet.generate_key().decode(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on 127.0.0.1: in production TLS ends at a proxy in front of the portal.
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"sqlite:///{folder / 'portal.sqlite3'}",
        "PORTAL_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "NEURONEX_ETC_DIR": str(folder / "etc"),
        "PORTAL_CACHE_DIR": str(folder / "cache"),
        "DJANGO_STATIC_ROOT": str(folder / "static"),
        # Throttling has its own tests; here it would only turn most requests into 429s.
        "PORTAL_THROTTLE_MINT": "1000000/min",
        "PORTAL_THROTTLE_VERIFY": "1000000/min",
    }


SEED = """
from django.contrib.auth.models import Group, User
from keys import roles
from keys.services.actor import Actor
from keys.services.api_tokens import api_token_create
from keys.services.issuers import issuer_create
from keys.services.keypairs import keypair_generate
from keys.services.tokens import token_mint

actor = Actor.cli()
user = User.objects.create_user("fuzz")
user.groups.add(Group.objects.get(name=roles.KEY_ADMINS))
issuer = issuer_create(actor=actor, name="plant-a")
keypair_generate(actor=actor, issuer=issuer)
token_mint(actor=actor, issuer=issuer, label="seed")
print(api_token_create(actor=actor, user=user))
"""


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"manage.py {args[0]} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def wait_until_up(url: str, server: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("gunicorn exited before it served a request")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our URL)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"{url} did not answer within {seconds} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=60)
    parser.add_argument("--seed", type=int, help="repeat an earlier run")
    parser.add_argument(
        "--checks",
        default="not_a_server_error",
        help="schemathesis checks, e.g. not_a_server_error,status_code_conformance",
    )
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="portal-fuzz-") as tmp:
        folder = Path(tmp)
        env = portal_env(folder)
        manage(env, "migrate", "--no-input", "--verbosity", "0")
        manage(env, "collectstatic", "--no-input", "--verbosity", "0")
        api_token = manage(env, "shell", "--no-imports", "-c", SEED).strip().splitlines()[-1]
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server_log = folder / "server.log"
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "portal.wsgi", f"--bind=127.0.0.1:{port}", "--workers=1"],
            cwd=ROOT,
            env=env,
            stderr=server_log.open("w"),  # gunicorn's log and Django's, with any traceback
        )
        try:
            wait_until_up(f"{base}/healthz", server)
            command = [
                str(BIN / "schemathesis"),
                "run",
                f"{base}/api/v1/schema/",
                f"--checks={options.checks}",
                "--workers=1",
                f"--max-examples={options.max_examples}",
                f"--header=Authorization: Token {api_token}",
                "--request-timeout=30",
                "--no-color",
            ]
            if options.seed is not None:
                command.append(f"--seed={options.seed}")
            status = subprocess.run(command, cwd=folder, check=False).returncode
        finally:
            server.terminate()
            server.wait(timeout=30)
        logged = server_log.read_text()
        if "Traceback" in logged or "Internal Server Error" in logged:
            print(f"\nThe server logged errors:\n{logged}", file=sys.stderr)
            status = status or 1
    return status


if __name__ == "__main__":
    sys.exit(main())
