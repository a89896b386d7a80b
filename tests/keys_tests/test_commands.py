import json
from datetime import timedelta
from io import StringIO

import jwt
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from keys import clock
from keys.models import AuditEvent, IssuedToken, Issuer, KeyPair
from keys.services.tokens import token_mint
from tests.conftest import rsa_key

pytestmark = pytest.mark.django_db

COMMANDS = [
    "create_issuer",
    "generate_key",
    "import_key",
    "rotate_key",
    "mint_token",
    "revoke_token",
    "audit_tokens",
    "verify_audit_log",
    "rotate_encryption_keys",
    "public_key",
    "ensure_admin",
]


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def state() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (Issuer, KeyPair, IssuedToken, AuditEvent))


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_explains_itself(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        call_command(command, "--help")
    assert exit_.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_create_generate_mint_round_trip():
    assert "iss 'plant-a.pem'" in run("create_issuer", "plant-a")
    assert "2048-bit" in run("generate_key", "plant-a")
    token = run("mint_token", "plant-a", "--label", "line 3 SCADA", "--ttl", "30d").strip()
    public_pem = run("public_key", "plant-a")
    claims = jwt.decode(token, public_pem, algorithms=["RS256"], audience="neuronex")
    assert claims["exp"] - claims["iat"] == 30 * 86400


def test_mint_json_prints_the_documented_fields(issuer, key_pair):
    output = json.loads(run("mint_token", "plant-a", "--label", "x", "--ttl", "12h", "--json"))
    assert set(output) == {"jti", "token", "iss", "aud", "iat", "exp"}
    assert output["exp"] - output["iat"] == 12 * 3600
    assert IssuedToken.objects.get().jti.hex == output["jti"].replace("-", "")


def test_mint_expires_at_without_zone_is_utc(issuer, key_pair, now):
    output = json.loads(
        run("mint_token", "plant-a", "--label", "x", "--expires-at", "2026-07-01", "--json")
    )
    assert output["exp"] == 1782864000  # 2026-07-01T00:00:00Z


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create_issuer", "UPPER"], "not a valid name"),
        (["create_issuer", "neuron-x"], "may not start with 'neuron'"),
        (["create_issuer", "plant-b", "--max-ttl", "soon"], "not a duration"),
        (["generate_key", "missing"], "No issuer is named 'missing'"),
        (["generate_key", "plant-a"], "already has an active key"),
        (["mint_token", "plant-a", "--label", "x", "--ttl", "0"], "not a positive duration"),
        (["mint_token", "plant-a", "--label", "x", "--ttl", "400d"], "longer than"),
        (["mint_token", "plant-a", "--label", " ", "--ttl", "1d"], "label is required"),
        (["mint_token", "plant-a", "--label", "x", "--expires-at", "tomorrow"], "ISO 8601"),
        (["mint_token", "plant-a", "--label", "x", "--expires-at", "2020-01-01"], "future"),
        (["revoke_token", "not-a-uuid"], "not a token id"),
        (["revoke_token", "6f1c1f4e-1d7b-4b8e-9b8e-1d7b4b8e9b8e"], "No token has the id"),
        (["import_key", "plant-a", "/nonexistent.pem"], "Cannot read /nonexistent.pem"),
        (["audit_tokens", "--expiring-within", "week"], "not a duration"),
        (["audit_tokens", "--issuer", "nope"], "No issuer is named"),
        (["public_key", "nope"], "No issuer is named"),
    ],
)
def test_bad_input_is_a_one_line_error_that_changes_nothing(issuer, key_pair, args, message):
    before = state()
    with pytest.raises(CommandError, match=message) as error:
        call_command(*args, stdout=StringIO())
    assert "\n" not in str(error.value)
    assert state() == before


def test_import_key_reads_a_passphrase_file(issuer, tmp_path):
    from cryptography.hazmat.primitives import serialization

    key_file = tmp_path / "private.key"
    key_file.write_bytes(
        rsa_key(2048, 3).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"s3cret"),
        )
    )
    (tmp_path / "pass").write_text("s3cret\n")
    with pytest.raises(CommandError, match="protected by a passphrase"):
        call_command("import_key", "plant-a", str(key_file), stdout=StringIO())
    output = run(
        "import_key", "plant-a", str(key_file), "--passphrase-file", str(tmp_path / "pass")
    )
    assert "Imported a 2048-bit key pair" in output
    assert KeyPair.objects.get().origin == "imported"


def test_rotate_key_says_how_many_tokens_stop_verifying(issuer, key_pair, cli_actor, now):
    token_mint(actor=cli_actor, issuer=issuer, label="a")
    token_mint(actor=cli_actor, issuer=issuer, label="b")
    output = run("rotate_key", "plant-a", "--bits", "3072")
    assert "new 3072-bit key" in output
    assert "2 unexpired token(s)" in output


def test_revoke_token_explains_that_neuronex_still_accepts_it(issuer, key_pair, cli_actor, now):
    record = token_mint(actor=cli_actor, issuer=issuer, label="scada").record
    output = run("revoke_token", str(record.jti), "--reason", "leaked")
    assert "Revoked" in output
    assert "keeps accepting this token until it expires" in output
    assert "Rotate the key" in output
    with pytest.raises(CommandError, match="revoked already"):
        call_command("revoke_token", str(record.jti), stdout=StringIO())


def test_audit_tokens_formats_and_filters(issuer, key_pair, cli_actor, now):
    token_mint(actor=cli_actor, issuer=issuer, label="=cmd|' /C calc'!A0", ttl=timedelta(days=3))
    token_mint(actor=cli_actor, issuer=issuer, label="long", ttl=timedelta(days=60))
    table = run("audit_tokens")
    assert table.splitlines()[0].split() == ["jti", "issuer", "label", "status", "exp", "minted_by"]
    assert len(table.splitlines()) == 3
    rows = json.loads(run("audit_tokens", "--format", "json", "--expiring-within", "7d"))
    assert [row["label"] for row in rows] == ["=cmd|' /C calc'!A0"]
    csv_text = run("audit_tokens", "--format", "csv")
    assert "'=cmd" in csv_text  # a spreadsheet must not run the label as a formula
    with clock.frozen_at(now + timedelta(days=10)):
        expired = json.loads(run("audit_tokens", "--format", "json", "--status", "expired"))
    assert [row["status"] for row in expired] == ["expired"]


def test_rotate_encryption_keys_moves_keys_to_the_first_key(issuer, key_pair, cli_actor, settings):
    from cryptography.fernet import Fernet

    old = settings.PORTAL_ENCRYPTION_KEYS[0]
    new = Fernet.generate_key().decode()
    settings.PORTAL_ENCRYPTION_KEYS = [new, old]
    assert "Re-encrypted 1 private key(s)" in run("rotate_encryption_keys")
    settings.PORTAL_ENCRYPTION_KEYS = [new]
    from keys import crypto

    crypto.signing_keys.clear()
    assert token_mint(actor=cli_actor, issuer=issuer, label="after").token


def test_ensure_admin_creates_once_and_never_resets(monkeypatch):
    from django.contrib.auth import get_user_model

    monkeypatch.setenv("PORTAL_ADMIN_PASSWORD", "first-password-1")
    assert "Created 'admin'" in run("ensure_admin")
    monkeypatch.setenv("PORTAL_ADMIN_PASSWORD", "second-password-2")
    assert "unchanged" in run("ensure_admin")
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    assert admin.check_password("first-password-1")


def test_ensure_admin_prints_a_generated_password(monkeypatch):
    from django.contrib.auth import get_user_model

    monkeypatch.delenv("PORTAL_ADMIN_PASSWORD", raising=False)
    output = run("ensure_admin")
    password = output.split("password: ")[1].split()[0]
    assert get_user_model().objects.get(username="admin").check_password(password)
