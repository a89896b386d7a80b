"""The API's key, target, audit and JWKS endpoints."""

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from rest_framework.test import APIClient

from keys import roles
from keys.models import AuditEvent, ExportTarget, KeyPair
from keys.services.exports import export_target
from keys.services.keypairs import keypair_rotate
from keys.services.tokens import token_mint
from tests.api_client import API, client_for
from tests.conftest import rsa_key

pytestmark = pytest.mark.django_db


def test_key_admins_generate_list_and_rotate_keys(
    issuer, django_capture_on_commit_callbacks, etc_dir
):
    client = client_for(roles.KEY_ADMINS)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(f"{API}/issuers/plant-a/keys/", {"bits": 3072}, format="json")
    assert created.status_code == 201
    assert created.json()["bits"] == 3072
    assert "private" not in str(created.json()).lower()
    assert (etc_dir / "plant-a.pem").read_text() == created.json()["public_pem"]
    rotated = client.post(f"{API}/issuers/plant-a/rotate/", {}, format="json")
    assert rotated.status_code == 200
    assert rotated.json()["bits"] == 3072
    listed = client.get(f"{API}/issuers/plant-a/keys/").json()
    assert [key["status"] for key in listed] == ["active", "retired"]


def test_generate_refuses_a_second_active_key_with_409(issuer, key_pair):
    response = client_for(roles.KEY_ADMINS).post(f"{API}/issuers/plant-a/keys/", {}, format="json")
    assert response.status_code == 409
    assert "Rotate" in response.json()["error"]["message"]


def test_generate_refuses_a_bad_size(issuer):
    response = client_for(roles.KEY_ADMINS).post(
        f"{API}/issuers/plant-a/keys/", {"bits": 1024}, format="json"
    )
    assert response.status_code == 400
    assert "bits" in response.json()["error"]["fields"]
    assert not KeyPair.objects.exists()


def test_import_with_passphrase(issuer):
    pem = (
        rsa_key(2048, 9)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.BestAvailableEncryption(b"pw-123"),
        )
        .decode()
    )
    client = client_for(roles.KEY_ADMINS)
    wrong = client.post(
        f"{API}/issuers/plant-a/keys/import/", {"pem": pem, "passphrase": "nope"}, format="json"
    )
    assert wrong.status_code == 400
    assert "passphrase" in wrong.json()["error"]["fields"]
    assert "pw-123" not in wrong.content.decode()
    right = client.post(
        f"{API}/issuers/plant-a/keys/import/", {"pem": pem, "passphrase": "pw-123"}, format="json"
    )
    assert right.status_code == 201
    assert right.json()["origin"] == "imported"


@pytest.mark.parametrize("role", [roles.AUDITORS, roles.ISSUERS])
@pytest.mark.parametrize(
    ("path", "body"),
    [("keys/", {}), ("rotate/", {}), ("keys/import/", {"pem": "x"})],
)
def test_only_key_admins_change_keys(issuer, key_pair, role, path, body):
    response = client_for(role).post(f"{API}/issuers/plant-a/{path}", body, format="json")
    assert response.status_code == 403
    assert KeyPair.objects.count() == 1


def test_disable_an_issuer_by_patch(issuer, key_pair):
    client = client_for(roles.KEY_ADMINS)
    response = client.patch(f"{API}/issuers/plant-a/", {"is_active": False}, format="json")
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert client.delete(f"{API}/issuers/plant-a/").status_code == 405
    refused = client_for(roles.ISSUERS).post(
        f"{API}/tokens/", {"issuer": "plant-a", "label": "x"}, format="json"
    )
    assert refused.status_code == 409


def test_targets_export_and_check(issuer, key_pair, etc_dir):
    client = client_for(roles.KEY_ADMINS)
    targets = client.get(f"{API}/targets/").json()
    assert targets[0]["name"] == "default"
    assert client.get(f"{API}/targets/default/check/").json()["in_sync"] is False
    exported = client.post(f"{API}/targets/default/export/", {}, format="json").json()
    assert exported["ok"] is True
    assert exported["written"] == ["plant-a.pem"]
    (etc_dir / "plant-a.pem.bak").write_text("copy")
    check = client.get(f"{API}/targets/default/check/").json()
    assert check["in_sync"] is False
    assert any(f["file"] == "plant-a.pem.bak" for f in check["findings"])
    assert client_for(roles.ISSUERS).post(f"{API}/targets/default/export/", {}).status_code == 403
    assert client.get(f"{API}/targets/nope/check/").status_code == 404


def test_audit_events_are_listed_newest_first(issuer, key_pair):
    response = client_for(roles.AUDITORS).get(f"{API}/audit-events/?action=key.generate")
    results = response.json()["results"]
    assert [event["action"] for event in results] == ["key.generate"]
    assert AuditEvent.objects.count() > 1


def test_jwks_lists_active_keys_and_retired_ones_still_needed(issuer, key_pair, cli_actor):
    minted = token_mint(actor=cli_actor, issuer=issuer, label="x")
    keypair_rotate(actor=cli_actor, issuer=issuer)
    response = APIClient().get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert "max-age" in response["Cache-Control"]
    keys = response.json()["keys"]
    assert len(keys) == 2
    old = next(key for key in keys if key["kid"] == key_pair.kid)
    public_key = jwt.PyJWK(old).key
    assert jwt.decode(minted.token, public_key, algorithms=["RS256"], audience="neuronex")


def test_jwks_drops_a_retired_key_without_live_tokens(issuer, key_pair, cli_actor):
    keypair_rotate(actor=cli_actor, issuer=issuer)
    export_target(actor=cli_actor, target=ExportTarget.objects.get(name="default"))
    keys = APIClient().get("/.well-known/jwks.json").json()["keys"]
    assert [key["kid"] for key in keys] != [key_pair.kid]
    assert len(keys) == 1


def test_a_4096_bit_key_imported_through_the_api_signs_tokens_neuronex_accepts(issuer):
    key = rsa_key(4096)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"long passphrase"),
    ).decode()
    client = client_for(roles.KEY_ADMINS)
    imported = client.post(
        f"{API}/issuers/plant-a/keys/import/",
        {"pem": pem, "passphrase": "long passphrase"},
        format="json",
    )
    assert imported.status_code == 201, imported.content
    assert imported.json()["bits"] == 4096
    minted = client.post(
        f"{API}/tokens/", {"issuer": "plant-a", "label": "big key", "ttl": "1d"}, format="json"
    )
    assert minted.status_code == 201
    token = minted.json()["token"]
    public_pem = imported.json()["public_pem"]
    assert jwt.decode(token, public_pem, algorithms=["RS256"], audience="neuronex")
    verified = client.post(f"{API}/tokens/verify/", {"token": token}, format="json")
    assert verified.json()["accepted"] is True
