import pytest
from cryptography.hazmat.primitives import serialization
from django.db import IntegrityError, transaction

from keys.errors import Conflict
from keys.models import AuditEvent, KeyPair
from keys.services.issuers import issuer_create
from keys.services.keypairs import (
    keypair_generate,
    keypair_import,
    keypair_retire,
    keypair_rotate,
)
from keys.services.tokens import token_mint
from tests.conftest import rsa_key

pytestmark = pytest.mark.django_db


def pkcs1_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def test_generate_gives_an_active_generated_key(issuer, cli_actor):
    key_pair = keypair_generate(actor=cli_actor, issuer=issuer, bits=3072)
    assert (key_pair.status, key_pair.origin, key_pair.bits) == ("active", "generated", 3072)
    assert key_pair.public_pem.startswith("-----BEGIN PUBLIC KEY-----\n")
    assert AuditEvent.objects.filter(action="key.generate", object_id=key_pair.kid).exists()


def test_generate_refuses_when_a_key_is_active(issuer, key_pair, cli_actor):
    with pytest.raises(Conflict, match="already has an active key"):
        keypair_generate(actor=cli_actor, issuer=issuer)
    assert KeyPair.objects.count() == 1


def test_rotate_retires_the_old_key_and_activates_a_new_one(issuer, key_pair, cli_actor, now):
    new = keypair_rotate(actor=cli_actor, issuer=issuer)
    key_pair.refresh_from_db()
    assert key_pair.status == "retired"
    assert key_pair.retired_at == now
    assert new.status == "active"
    assert new.kid != key_pair.kid
    assert new.bits == key_pair.bits
    event = AuditEvent.objects.get(action="key.rotate")
    assert event.details["replaced_kid"] == key_pair.kid


def test_rotate_can_change_the_key_size(issuer, key_pair, cli_actor):
    assert keypair_rotate(actor=cli_actor, issuer=issuer, bits=4096).bits == 4096


def test_tokens_after_rotation_are_signed_by_the_new_key(issuer, key_pair, cli_actor):
    before = token_mint(actor=cli_actor, issuer=issuer, label="before").record
    new = keypair_rotate(actor=cli_actor, issuer=issuer)
    after = token_mint(actor=cli_actor, issuer=issuer, label="after").record
    assert before.key_pair_id == key_pair.pk
    assert after.key_pair_id == new.pk


def test_the_database_allows_one_active_key_per_issuer(issuer, key_pair):
    with pytest.raises(IntegrityError), transaction.atomic():
        KeyPair.objects.create(
            issuer=issuer,
            kid="another",
            bits=2048,
            public_pem="x",
            private_key_encrypted="x",
            status="active",
            origin="generated",
        )


def test_import_makes_the_key_active(issuer, cli_actor):
    key_pair = keypair_import(actor=cli_actor, issuer=issuer, pem=pkcs1_pem(rsa_key(2048, 5)))
    assert (key_pair.status, key_pair.origin) == ("active", "imported")
    assert AuditEvent.objects.filter(action="key.import").exists()


def test_import_refuses_when_a_key_is_active_unless_replacing(issuer, key_pair, cli_actor):
    pem = pkcs1_pem(rsa_key(2048, 5))
    with pytest.raises(Conflict, match="already has an active key"):
        keypair_import(actor=cli_actor, issuer=issuer, pem=pem)
    imported = keypair_import(actor=cli_actor, issuer=issuer, pem=pem, replace_active=True)
    key_pair.refresh_from_db()
    assert key_pair.status == "retired"
    assert imported.status == "active"
    assert AuditEvent.objects.get(action="key.rotate").details["origin"] == "imported"


def test_the_same_key_cannot_belong_to_two_issuers(issuer, cli_actor):
    other = issuer_create(actor=cli_actor, name="plant-b")
    pem = pkcs1_pem(rsa_key(2048, 5))
    keypair_import(actor=cli_actor, issuer=issuer, pem=pem)
    with pytest.raises(Conflict, match="registered already \\(issuer 'plant-a'"):
        keypair_import(actor=cli_actor, issuer=other, pem=pem)
    assert not KeyPair.objects.filter(issuer=other).exists()


def test_retire_without_successor_leaves_no_active_key(issuer, key_pair, cli_actor, now):
    keypair_retire(actor=cli_actor, key_pair=key_pair)
    key_pair.refresh_from_db()
    assert (key_pair.status, key_pair.retired_at) == ("retired", now)
    with pytest.raises(Conflict, match="retired already"):
        keypair_retire(actor=cli_actor, key_pair=key_pair)
    assert AuditEvent.objects.filter(action="key.retire").count() == 1


def test_next_key_can_be_generated_after_retiring(issuer, key_pair, cli_actor):
    keypair_retire(actor=cli_actor, key_pair=key_pair)
    assert keypair_generate(actor=cli_actor, issuer=issuer).status == "active"
