"""Mint with an Idempotency-Key: a retried request gets the first answer, not a second token."""

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet

from keys import clock, roles
from keys.models import AuditEvent, IdempotentMint, IssuedToken
from keys.services.actor import Actor
from keys.services.encryption import encryption_keys_rotate
from keys.services.tokens import token_hash
from tests.api_client import API, client_for

pytestmark = pytest.mark.django_db

MINT = {"issuer": "plant-a", "label": "pipeline 7", "ttl": "1d"}


def mint(client, key="4b3f7d0e-retry", body=MINT):
    return client.post(f"{API}/tokens/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.fixture
def client(issuer, key_pair):
    return client_for(roles.ISSUERS)


def test_a_retry_gets_the_first_answer_and_mints_nothing(client, now):
    first = mint(client)
    with clock.frozen_at(now + timedelta(minutes=5)):
        retry = mint(client)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert retry["Cache-Control"] == "no-store"
    assert IssuedToken.objects.count() == 1
    assert IssuedToken.objects.get().token_sha256 == token_hash(first.json()["token"])


def test_a_replay_is_audited(client):
    first = mint(client)
    mint(client)
    replay = AuditEvent.objects.get(action="token.mint_replay")
    assert replay.object_id == first.json()["jti"]
    assert replay.actor_name == "token-issuers"
    assert AuditEvent.objects.filter(action="token.mint").count() == 1


def test_the_order_of_the_body_does_not_matter(client):
    first = mint(client, body=MINT)
    retry = mint(client, body=dict(reversed(MINT.items())))
    assert retry.json()["jti"] == first.json()["jti"]


def test_the_same_key_for_a_different_request_is_422(client):
    mint(client)
    other = mint(client, body={**MINT, "label": "pipeline 8"})
    assert other.status_code == 422
    error = other.json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in error["fields"]
    assert IssuedToken.objects.count() == 1


def test_without_a_key_every_request_mints(client):
    for _ in range(2):
        assert client.post(f"{API}/tokens/", MINT, format="json").status_code == 201
    assert IssuedToken.objects.count() == 2


def test_different_keys_mint_different_tokens(client):
    assert mint(client, key="a").json()["jti"] != mint(client, key="b").json()["jti"]


def test_keys_belong_to_their_user(issuer, key_pair):
    first = mint(client_for(roles.ISSUERS))
    second = mint(client_for(roles.KEY_ADMINS))
    assert first.json()["jti"] != second.json()["jti"]
    assert "Idempotent-Replayed" not in second


def test_after_the_window_the_key_mints_again_and_the_kept_token_is_gone(client, now, settings):
    settings.PORTAL_IDEMPOTENCY_WINDOW = timedelta(hours=1)
    first = mint(client)
    with clock.frozen_at(now + timedelta(hours=1, seconds=1)):
        later = mint(client)
    assert later.status_code == 201
    assert later.json()["jti"] != first.json()["jti"]
    assert "Idempotent-Replayed" not in later
    assert list(IdempotentMint.objects.values_list("token__jti", flat=True)) == [
        IssuedToken.objects.get(jti=later.json()["jti"]).jti
    ]


def test_the_kept_token_is_encrypted(client):
    token = mint(client).json()["token"]
    kept = IdempotentMint.objects.get()
    assert token not in kept.token_encrypted
    assert token.split(".")[2] not in kept.token_encrypted


def test_rotating_encryption_keys_keeps_replays_working(client, settings):
    first = mint(client)
    settings.PORTAL_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *settings.PORTAL_ENCRYPTION_KEYS,
    ]
    encryption_keys_rotate(actor=Actor.cli())
    settings.PORTAL_ENCRYPTION_KEYS = settings.PORTAL_ENCRYPTION_KEYS[:1]
    assert mint(client).json()["token"] == first.json()["token"]
    event = AuditEvent.objects.get(action="encryption.rotate")
    assert event.details["kept_tokens"] == 1


@pytest.mark.parametrize("key", ["", " ", "x" * 256, "caf\u00e9", "tab\there"])
def test_a_malformed_key_is_400_and_mints_nothing(client, key):
    response = mint(client, key=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["fields"]
    assert not IssuedToken.objects.exists()


def test_an_invalid_request_is_not_remembered(client):
    bad = mint(client, body={**MINT, "ttl": "forever"})
    assert bad.status_code == 400
    assert mint(client).status_code == 201
    assert "Idempotent-Replayed" not in mint(client, key="other")
