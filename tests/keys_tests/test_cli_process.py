"""The command line as an operator uses it: real processes against the test database."""

import os
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def manage(transactional_db):
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{db['NAME']}"
    else:
        url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_DEBUG": "true",
        "PORTAL_ENCRYPTION_KEYS": ",".join(settings.PORTAL_ENCRYPTION_KEYS),
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run


def test_operator_path_from_issuer_to_verified_token(manage):
    assert manage("create_issuer", "plant-a").returncode == 0
    assert manage("generate_key", "plant-a").returncode == 0
    minted = manage("mint_token", "plant-a", "--label", "line 3 SCADA", "--ttl", "30d")
    assert minted.returncode == 0, minted.stderr
    token = minted.stdout.strip()
    assert minted.stdout == token + "\n"  # the token alone, so $(...) captures it
    public_pem = manage("public_key", "plant-a").stdout
    claims = jwt.decode(token, public_pem, algorithms=["RS256"], audience="neuronex")
    assert claims["iss"] == "plant-a.pem"


def test_bad_input_exits_non_zero_with_one_line_on_stderr(manage):
    result = manage("create_issuer", "Plant A")
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "not a valid name" in result.stderr
