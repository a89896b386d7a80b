"""The command line as an operator uses it: real processes against the test database."""

import jwt
import pytest

from tests.processes import manage_runner


@pytest.fixture
def manage(transactional_db):
    return manage_runner()


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
