"""Real processes for the tests: manage.py against the test database, and Python with a chosen
environment (settings are read at start, so only a new process sees a changed environment)."""

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
# What a production start needs; tests take one away or add one.
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "x" * 50,
    "DJANGO_ALLOWED_HOSTS": "portal.example.com",
    "PORTAL_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
}
CHECK = (
    "import django; django.setup(); "
    "from django.core.management import call_command; call_command('check')"
)


def clean_environment() -> dict[str, str]:
    """This process's environment without the portal's settings, so that only what a test
    gives reaches the child."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PORTAL_")) and k != "DATABASE_URL"
    }


def python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean_environment(), "DJANGO_SETTINGS_MODULE": "portal.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def manage_runner():
    """``run(*args, **env)``: manage.py in a new process, on the test database, with the test's
    encryption key. Needs a transactional test, so that the process sees committed rows."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{db['NAME']}"
    else:
        url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    base = {
        **clean_environment(),
        "DATABASE_URL": url,
        "DJANGO_DEBUG": "true",
        "PORTAL_ENCRYPTION_KEYS": ",".join(settings.PORTAL_ENCRYPTION_KEYS),
        "NEURONEX_ETC_DIR": settings.NEURONEX_ETC_DIR,
    }

    def run(*args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**base, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run
