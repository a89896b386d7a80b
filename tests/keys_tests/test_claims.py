"""What a minted token looks like on the wire (neuronex-compat.md rules 1, 2, 7 and 8), checked
on the raw bytes, with PyJWT and with `openssl dgst`."""

import base64
import hashlib
import json
import re
import subprocess
import uuid
from datetime import timedelta

import jwt
import pytest
from django.db import connection

from keys.models import AuditEvent, IssuedToken
from keys.neuronex.profiles import AUD_EKUIPER, AUD_NEURON, AUD_NEURONEX, ISS_BARE
from keys.services.issuers import issuer_create
from keys.services.keypairs import keypair_generate
from keys.services.tokens import token_mint

PAYLOAD_CLAIMS = {"iss", "aud", "iat", "exp", "jti", "bodyEncode"}


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def split(token: str) -> tuple[str, str, bytes]:
    """The raw header JSON, the raw payload JSON and the signature bytes."""
    header, payload, signature = token.split(".")
    return (
        b64url_decode(header).decode("utf-8"),
        b64url_decode(payload).decode("utf-8"),
        b64url_decode(signature),
    )


def openssl_verify(tmp_path, token: str, public_pem: str) -> subprocess.CompletedProcess:
    signing_input, _, signature = token.rpartition(".")
    (tmp_path / "pub.pem").write_text(public_pem)
    (tmp_path / "sig.bin").write_bytes(b64url_decode(signature))
    (tmp_path / "data").write_bytes(signing_input.encode("ascii"))
    return subprocess.run(
        [
            "openssl",
            "dgst",
            "-sha256",
            "-verify",
            str(tmp_path / "pub.pem"),
            "-signature",
            str(tmp_path / "sig.bin"),
            str(tmp_path / "data"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def table_dump(*tables: str) -> str:
    """Every value of every row of ``tables``, as text."""
    parts = []
    with connection.cursor() as cursor:
        for table in tables:
            # Fixed table names from this module, quoted.
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                parts.extend(
                    json.dumps(value) if isinstance(value, dict | list) else str(value)
                    for value in row
                )
    return "\n".join(parts)


@pytest.fixture
def mint(cli_actor):
    def mint(issuer, **kwargs):
        return token_mint(actor=cli_actor, issuer=issuer, label="line 3 SCADA", **kwargs)

    return mint


@pytest.fixture
def make_issuer(db, cli_actor):
    """An issuer with an active key pair."""

    def make_issuer(name, bits=2048, **kwargs):
        issuer = issuer_create(actor=cli_actor, name=name, **kwargs)
        key_pair = keypair_generate(actor=cli_actor, issuer=issuer, bits=bits)
        return issuer, key_pair

    return make_issuer


# --- Header ----------------------------------------------------------------------------------


def test_the_header_is_exactly_alg_rs256_typ_jwt(issuer, key_pair, mint):
    header, _, _ = split(mint(issuer).token)
    assert header == '{"alg":"RS256","typ":"JWT"}'


def test_the_header_bytes_are_the_first_segment_verbatim(issuer, key_pair, mint):
    first_segment = mint(issuer).token.split(".")[0]
    assert b64url_decode(first_segment) == b'{"alg":"RS256","typ":"JWT"}'
    assert "=" not in first_segment


# --- Payload ---------------------------------------------------------------------------------


def test_iss_is_the_key_file_name_by_default(issuer, key_pair, mint):
    claims = json.loads(split(mint(issuer).token)[1])
    assert claims["iss"] == "plant-a.pem"


def test_iss_is_the_bare_name_for_iss_style_bare(make_issuer, mint):
    issuer, _ = make_issuer("plant-b", iss_style=ISS_BARE)
    claims = json.loads(split(mint(issuer).token)[1])
    assert claims["iss"] == "plant-b"


def test_aud_is_neuronex_by_default(issuer, key_pair, mint):
    _, payload, _ = split(mint(issuer).token)
    assert json.loads(payload)["aud"] == "neuronex"
    assert '"aud":"neuronex"' in payload


@pytest.mark.parametrize("audience", [AUD_NEURONEX, AUD_NEURON, AUD_EKUIPER])
def test_aud_is_the_issuers_audience_as_one_string(make_issuer, mint, audience):
    issuer, _ = make_issuer("plant-b", audience=audience)
    _, payload, _ = split(mint(issuer).token)
    assert json.loads(payload)["aud"] == audience
    assert f'"aud":"{audience}"' in payload  # a string, not an array; case kept


def test_iat_and_exp_are_json_integers(issuer, key_pair, mint, now):
    _, payload, _ = split(mint(issuer).token)
    claims = json.loads(payload)
    assert type(claims["iat"]) is int
    assert type(claims["exp"]) is int
    assert re.search(r'"iat":\d+[,}]', payload)
    assert re.search(r'"exp":\d+[,}]', payload)
    assert '"iat":"' not in payload
    assert '"exp":"' not in payload


def test_iat_is_now_and_exp_is_iat_plus_the_default_lifetime(issuer, key_pair, mint, now):
    claims = json.loads(split(mint(issuer).token)[1])
    assert claims["iat"] == int(now.timestamp())
    assert claims["exp"] == claims["iat"] + int(issuer.default_ttl.total_seconds())


def test_exp_is_iat_plus_the_lifetime_asked_for(issuer, key_pair, mint, now):
    claims = json.loads(split(mint(issuer, ttl=timedelta(hours=12)).token)[1])
    assert claims["exp"] - claims["iat"] == 12 * 3600


def test_body_encode_is_the_integer_zero(issuer, key_pair, mint):
    _, payload, _ = split(mint(issuer).token)
    assert type(json.loads(payload)["bodyEncode"]) is int
    assert json.loads(payload)["bodyEncode"] == 0
    assert '"bodyEncode":0' in payload


def test_jti_is_the_records_jti(issuer, key_pair, mint):
    minted = mint(issuer)
    claims = json.loads(split(minted.token)[1])
    assert claims["jti"] == str(minted.record.jti)
    assert uuid.UUID(claims["jti"]) == minted.record.jti


def test_the_payload_has_no_nbf_no_user_and_no_kid(issuer, key_pair, mint):
    claims = json.loads(split(mint(issuer).token)[1])
    assert "nbf" not in claims
    assert "user" not in claims
    assert "kid" not in claims
    assert set(claims) == PAYLOAD_CLAIMS


def test_the_record_keeps_the_payload_as_minted(issuer, key_pair, mint):
    minted = mint(issuer)
    minted.record.refresh_from_db()
    assert minted.record.claims == json.loads(split(minted.token)[1])
    assert minted.record.key_pair_id == key_pair.pk


# --- Signature -------------------------------------------------------------------------------


def test_the_token_verifies_with_pyjwt_and_the_issuers_public_pem(issuer, key_pair, mint):
    minted = mint(issuer)
    claims = jwt.decode(
        minted.token,
        key_pair.public_pem,
        algorithms=["RS256"],
        audience="neuronex",
        issuer="plant-a.pem",
        options={"require": ["iss", "aud", "iat", "exp", "jti"]},
    )
    assert claims["jti"] == str(minted.record.jti)


def test_the_token_verifies_with_openssl_dgst(issuer, key_pair, mint, tmp_path):
    result = openssl_verify(tmp_path, mint(issuer).token, key_pair.public_pem)
    assert result.returncode == 0, result.stderr
    assert "Verified OK" in result.stdout


def test_openssl_dgst_refuses_a_token_whose_payload_was_changed(issuer, key_pair, mint, tmp_path):
    header, _payload, signature = mint(issuer).token.split(".")
    forged_payload = base64.urlsafe_b64encode(b'{"iss":"plant-a.pem","exp":99999999999}')
    forged = f"{header}.{forged_payload.rstrip(b'=').decode()}.{signature}"
    result = openssl_verify(tmp_path, forged, key_pair.public_pem)
    assert result.returncode != 0
    assert "Verification failure" in result.stdout + result.stderr


def test_a_token_from_a_4096_bit_key_verifies(make_issuer, mint, tmp_path):
    issuer, key_pair = make_issuer("plant-c", bits=4096)
    minted = mint(issuer)
    assert key_pair.bits == 4096
    assert len(split(minted.token)[2]) == 512
    jwt.decode(minted.token, key_pair.public_pem, algorithms=["RS256"], audience="neuronex")
    result = openssl_verify(tmp_path, minted.token, key_pair.public_pem)
    assert result.returncode == 0, result.stderr


def test_a_token_from_a_2048_bit_key_has_a_256_byte_signature(issuer, key_pair, mint):
    assert len(split(mint(issuer).token)[2]) == 256


# --- What the database keeps -----------------------------------------------------------------


def test_the_record_stores_the_sha256_of_the_token(issuer, key_pair, mint):
    minted = mint(issuer)
    stored = IssuedToken.objects.get(pk=minted.record.pk)
    assert stored.token_sha256 == hashlib.sha256(minted.token.encode("ascii")).hexdigest()


def test_the_token_string_is_stored_nowhere(issuer, key_pair, mint):
    minted = mint(issuer)
    signing_input, _, signature = minted.token.rpartition(".")
    assert AuditEvent.objects.filter(action="token.mint").count() == 1

    dump = table_dump("keys_issuedtoken", "keys_auditevent")

    assert str(minted.record.jti) in dump  # the dump does see the token's rows
    assert minted.token not in dump
    assert signature not in dump
    assert signing_input not in dump


@pytest.mark.parametrize(
    ("audience", "header"),
    [("neuronex", "Bearer t.o.k"), ("neuron", "Bearer t.o.k"), ("eKuiper", "t.o.k")],
)
def test_the_authorization_header_suits_the_verifier(audience, header):
    from keys.neuronex.claims import authorization_header

    assert authorization_header("t.o.k", audience) == header
