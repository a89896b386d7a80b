"""RSA key material: generation, import, the public PEM the verifiers read, RFC 7638 key ids,
encryption at rest and the cache of loaded signing keys."""

import base64
import hashlib
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import NameOID
from django.db import connection
from jwt.algorithms import RSAAlgorithm

from keys import crypto
from keys.crypto import EncryptionKeyError
from keys.errors import InvalidInput
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

PASSPHRASE = "correct horse battery staple"
# Neuron cuts every key file to 1023 bytes; these are the SPKI PEM sizes (neuronex-compat.md).
SPKI_PEM_SIZES = {2048: 451, 3072: 625, 4096: 800}

# RFC 7638, section 3.1: the example RSA key and its SHA-256 JWK thumbprint.
RFC7638_N = (
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
    "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Qvzq"
    "Y368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0"
    "fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
)
RFC7638_E = "AQAB"
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


# --- Helpers ---------------------------------------------------------------------------------


def openssl(*args: str) -> str:
    result = subprocess.run(["openssl", *args], capture_output=True, text=True, check=True)
    return result.stdout


def openssl_public_pem(path: Path, passphrase: str | None = None) -> str:
    args = ["pkey", "-in", str(path), "-pubout"]
    if passphrase is not None:
        args += ["-passin", f"pass:{passphrase}"]
    return openssl(*args)


def pkcs1_pem(key, passphrase: str | None = None) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        _encryption(passphrase),
    )


def pkcs8_pem(key, passphrase: str | None = None) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, _encryption(passphrase)
    )


def _encryption(passphrase: str | None):
    if passphrase is None:
        return serialization.NoEncryption()
    return serialization.BestAvailableEncryption(passphrase.encode())


def self_signed_certificate_pem() -> bytes:
    key = rsa_key(2048, 0)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "plant-a")])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_int(text: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")


def database_dump() -> str:
    """Every value of every row of every table, as text (bytes as latin-1)."""
    parts = []
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        assert {"keys_keypair", "keys_auditevent", "keys_issuer"} <= set(tables)
        for table in tables:
            # Table names come from the database's own catalogue, quoted.
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        parts.append(bytes(value).decode("latin-1"))
                    elif isinstance(value, dict | list):
                        parts.append(json.dumps(value))
                    else:
                        parts.append(str(value))
    return "\n".join(parts)


def private_fragments(key: rsa.RSAPrivateKey) -> dict[str, str]:
    """Every form in which the private half of ``key`` could leak, by a name for the report."""
    fragments = {}
    for form, pem in (("pkcs1", pkcs1_pem(key)), ("pkcs8", pkcs8_pem(key))):
        body = [line for line in pem.decode().splitlines() if not line.startswith("-----")]
        for number, line in enumerate(body):
            fragments[f"{form} PEM line {number}"] = line
    for form, private_format in (
        ("pkcs1", serialization.PrivateFormat.TraditionalOpenSSL),
        ("pkcs8", serialization.PrivateFormat.PKCS8),
    ):
        der = key.private_bytes(
            serialization.Encoding.DER, private_format, serialization.NoEncryption()
        )
        fragments[f"{form} DER"] = der.decode("latin-1")
        fragments[f"{form} DER base64"] = base64.b64encode(der).decode()
        fragments[f"{form} DER base64url"] = b64url(der)
        fragments[f"{form} DER hex"] = der.hex()
    numbers = key.private_numbers()
    for name in ("d", "p", "q"):
        value = getattr(numbers, name)
        fragments[f"{name} decimal"] = str(value)
        fragments[f"{name} hex"] = format(value, "x")
    return fragments


def leaked(fragments: dict[str, str], dump: str) -> list[str]:
    lowered = dump.lower()
    return [
        name
        for name, fragment in fragments.items()
        if fragment in dump or (name.endswith("hex") and fragment.lower() in lowered)
    ]


# --- Generation ------------------------------------------------------------------------------


@pytest.mark.parametrize("bits", [2048, 3072, 4096])
def test_generate_makes_an_rsa_key_of_each_supported_size(bits):
    material = crypto.generate(bits)
    assert material.bits == bits
    assert material.private_key.key_size == bits
    assert material.private_key.public_key().public_numbers().e == 65537
    assert material.kid == crypto.jwk_thumbprint(material.private_key.public_key())
    assert material.public_pem == crypto.public_pem(material.private_key.public_key())


def test_generate_makes_2048_bit_keys_by_default():
    assert crypto.generate().bits == 2048


def test_generate_really_generates_a_fresh_key_when_the_pool_is_off(fast_keygen):
    fast_keygen.undo()
    material = crypto.generate(2048)
    numbers = material.private_key.public_key().public_numbers()
    assert material.bits == 2048
    assert numbers.e == 65537
    assert numbers.n != rsa_key(2048, 0).public_key().public_numbers().n
    signature = material.private_key.sign(b"signing input", padding.PKCS1v15(), hashes.SHA256())
    material.private_key.public_key().verify(
        signature, b"signing input", padding.PKCS1v15(), hashes.SHA256()
    )


@pytest.mark.parametrize("bits", [1024, 1536, 2047, 8192, 0])
def test_generate_refuses_unsupported_sizes_before_generating(monkeypatch, bits):
    def must_not_generate(**kwargs):
        raise AssertionError("generate() made a key of a refused size")

    monkeypatch.setattr(crypto.rsa, "generate_private_key", must_not_generate)
    with pytest.raises(InvalidInput) as excinfo:
        crypto.generate(bits)
    assert excinfo.value.field == "bits"
    assert "2048, 3072, 4096" in excinfo.value.message
    assert str(bits) in excinfo.value.message


# --- Import: what is accepted ----------------------------------------------------------------


def test_import_reads_the_key_openssl_genrsa_writes(tmp_path):
    path = tmp_path / "f"
    openssl("genrsa", "-out", str(path), "2048")
    material = crypto.load_private_pem(path.read_bytes())
    assert material.bits == 2048
    assert material.public_pem == openssl_public_pem(path)


def test_import_reads_pkcs1_pem_from_openssl_genrsa_traditional(tmp_path):
    path = tmp_path / "f"
    openssl("genrsa", "-traditional", "-out", str(path), "2048")
    data = path.read_bytes()
    assert data.startswith(b"-----BEGIN RSA PRIVATE KEY-----\n")
    material = crypto.load_private_pem(data)
    assert material.bits == 2048
    assert material.public_pem == openssl_public_pem(path)


def test_import_reads_passphrase_protected_pkcs1_from_openssl_genrsa(tmp_path):
    path = tmp_path / "f"
    openssl(
        "genrsa", "-traditional", "-aes256", "-passout", "pass:secret", "-out", str(path), "2048"
    )
    data = path.read_bytes()
    assert b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n" in data
    material = crypto.load_private_pem(data, "secret")
    assert material.bits == 2048
    assert material.public_pem == openssl_public_pem(path, "secret")


def test_import_reads_encrypted_pkcs8_from_openssl_genpkey(tmp_path):
    path = tmp_path / "f"
    openssl(
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-aes256",
        "-pass",
        "pass:secret",
        "-out",
        str(path),
    )
    data = path.read_bytes()
    assert data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    material = crypto.load_private_pem(data, "secret")
    assert material.bits == 2048
    assert material.public_pem == openssl_public_pem(path, "secret")


def test_import_reads_encrypted_pkcs8_from_openssl_pkcs8_topk8(tmp_path):
    key = rsa_key(2048, 0)
    plain, encrypted = tmp_path / "plain", tmp_path / "encrypted"
    plain.write_bytes(pkcs1_pem(key))
    openssl(
        "pkcs8",
        "-topk8",
        "-v2",
        "aes-256-cbc",
        "-in",
        str(plain),
        "-passout",
        "pass:secret",
        "-out",
        str(encrypted),
    )
    data = encrypted.read_bytes()
    assert data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    material = crypto.load_private_pem(data, "secret")
    assert material.kid == crypto.jwk_thumbprint(key.public_key())


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(pkcs1_pem, id="pkcs1"),
        pytest.param(pkcs8_pem, id="pkcs8"),
    ],
)
@pytest.mark.parametrize("bits", [2048, 3072, 4096])
def test_import_reads_each_supported_size(write, bits):
    key = rsa_key(bits, 0)
    material = crypto.load_private_pem(write(key))
    assert material.bits == bits
    assert material.kid == crypto.jwk_thumbprint(key.public_key())
    assert material.private_key.private_numbers() == key.private_numbers()


@pytest.mark.parametrize(
    "write",
    [pytest.param(pkcs1_pem, id="pkcs1"), pytest.param(pkcs8_pem, id="pkcs8")],
)
def test_import_reads_a_passphrase_protected_key_with_its_passphrase(write):
    key = rsa_key(2048, 0)
    material = crypto.load_private_pem(write(key, PASSPHRASE), PASSPHRASE)
    assert material.private_key.private_numbers() == key.private_numbers()


# --- Import: what is refused, and why --------------------------------------------------------


@pytest.mark.parametrize("bits", [1024, 1536])
def test_import_refuses_a_key_of_an_unsupported_size_on_the_file_field(bits):
    """An import form has a file and a passphrase, no bits: the error belongs on the file."""
    with pytest.raises(InvalidInput) as excinfo:
        crypto.load_private_pem(pkcs1_pem(rsa_key(bits, 0)))
    assert excinfo.value.field == "file"
    assert str(bits) in excinfo.value.message
    assert "2048, 3072, 4096" in excinfo.value.message


def _public_spki():
    return (
        rsa_key(2048, 0)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def _public_pkcs1():
    return (
        rsa_key(2048, 0)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    )


def _ec_pkcs8():
    return pkcs8_pem(ec.generate_private_key(ec.SECP256R1()))


def _ec_traditional():
    return pkcs1_pem(ec.generate_private_key(ec.SECP256R1()))


def _ed25519():
    return pkcs8_pem(ed25519.Ed25519PrivateKey.generate())


def _truncated():
    pem = pkcs8_pem(rsa_key(2048, 0))
    return pem[: len(pem) // 2]


def _too_large():
    pem = pkcs8_pem(rsa_key(2048, 0))
    return pem + b"\n" * (crypto.MAX_IMPORT_BYTES + 1 - len(pem))


@pytest.mark.parametrize(
    ("make", "passphrase", "field", "says"),
    [
        pytest.param(
            lambda: b"\x00\xff\x13garbage\x80" * 50,
            None,
            "file",
            "not a PEM private key",
            id="garbage",
        ),
        pytest.param(lambda: b"", None, "file", "not a PEM private key", id="empty"),
        pytest.param(_public_spki, None, "file", "public key or certificate", id="public-spki"),
        pytest.param(_public_pkcs1, None, "file", "public key or certificate", id="public-pkcs1"),
        pytest.param(
            self_signed_certificate_pem, None, "file", "public key or certificate", id="certificate"
        ),
        pytest.param(_ec_pkcs8, None, "file", "EC key", id="ec-pkcs8"),
        pytest.param(_ec_traditional, None, "file", "EC key", id="ec-traditional"),
        pytest.param(_ed25519, None, "file", "Ed25519 key", id="ed25519"),
        pytest.param(_truncated, None, "file", "damaged or truncated", id="truncated"),
        pytest.param(
            lambda: pkcs8_pem(rsa_key(2048, 0), PASSPHRASE),
            None,
            "passphrase",
            "give the passphrase",
            id="missing-passphrase-pkcs8",
        ),
        pytest.param(
            lambda: pkcs1_pem(rsa_key(2048, 0), PASSPHRASE),
            None,
            "passphrase",
            "give the passphrase",
            id="missing-passphrase-pkcs1",
        ),
        pytest.param(
            lambda: pkcs8_pem(rsa_key(2048, 0), PASSPHRASE),
            "wrong",
            "passphrase",
            "passphrase is wrong",
            id="wrong-passphrase-pkcs8",
        ),
        pytest.param(
            lambda: pkcs1_pem(rsa_key(2048, 0), PASSPHRASE),
            "wrong",
            "passphrase",
            "passphrase is wrong",
            id="wrong-passphrase-pkcs1",
        ),
        pytest.param(
            lambda: pkcs8_pem(rsa_key(2048, 0)),
            PASSPHRASE,
            "passphrase",
            "not protected by a passphrase",
            id="passphrase-for-unencrypted-pkcs8",
        ),
        pytest.param(
            lambda: pkcs1_pem(rsa_key(2048, 0)),
            PASSPHRASE,
            "passphrase",
            "not protected by a passphrase",
            id="passphrase-for-unencrypted-pkcs1",
        ),
        pytest.param(_too_large, None, "file", "too large", id="too-large"),
    ],
)
def test_import_refuses_what_it_cannot_use_with_a_clear_message(make, passphrase, field, says):
    with pytest.raises(InvalidInput) as excinfo:
        crypto.load_private_pem(make(), passphrase)
    assert excinfo.value.field == field
    assert says in excinfo.value.message


@pytest.mark.parametrize("make", [_ec_pkcs8, _ed25519])
def test_a_non_rsa_key_is_refused_because_rs256_needs_rsa(make):
    with pytest.raises(InvalidInput) as excinfo:
        crypto.load_private_pem(make())
    assert "RS256" in excinfo.value.message
    assert "RSA key" in excinfo.value.message


def test_a_refused_import_writes_nothing(issuer, cli_actor):
    before = (KeyPair.objects.count(), AuditEvent.objects.count())
    with pytest.raises(InvalidInput) as excinfo:
        keypair_import(actor=cli_actor, issuer=issuer, pem=pkcs8_pem(rsa_key(2048, 0), PASSPHRASE))
    assert excinfo.value.field == "passphrase"
    assert (KeyPair.objects.count(), AuditEvent.objects.count()) == before


# --- The public PEM the verifiers read -------------------------------------------------------


@pytest.mark.parametrize("bits", [2048, 3072, 4096])
def test_the_public_pem_is_one_spki_block_with_lf_line_ends(bits):
    pem = crypto.generate(bits).public_pem
    assert pem.startswith("-----BEGIN PUBLIC KEY-----\n")
    assert pem.endswith("-----END PUBLIC KEY-----\n")
    assert pem.count("-----BEGIN") == 1
    assert pem.count("-----END") == 1
    assert "\r" not in pem
    assert not pem.endswith("\n\n")
    assert all(len(line) <= 64 for line in pem.splitlines())


@pytest.mark.parametrize(("bits", "size"), SPKI_PEM_SIZES.items())
def test_the_public_pem_fits_in_neurons_1023_bytes(bits, size):
    pem = crypto.generate(bits).public_pem.encode("ascii")
    assert len(pem) == size
    assert len(pem) <= 1023


def test_the_public_pem_is_the_public_half_of_the_key():
    material = crypto.generate(2048)
    public_key = serialization.load_pem_public_key(material.public_pem.encode())
    assert public_key.public_numbers() == material.private_key.public_key().public_numbers()


def test_the_stored_public_pem_is_the_one_described(issuer, cli_actor):
    key_pair = keypair_generate(actor=cli_actor, issuer=issuer, bits=2048)
    key_pair.refresh_from_db()
    assert key_pair.public_pem == crypto.describe(rsa_key(2048, 0)).public_pem
    assert key_pair.public_pem.endswith("-----END PUBLIC KEY-----\n")


# --- kid: the RFC 7638 thumbprint ------------------------------------------------------------


def test_the_thumbprint_matches_the_rfc_7638_example():
    public_key = rsa.RSAPublicNumbers(b64url_int(RFC7638_E), b64url_int(RFC7638_N)).public_key()
    assert crypto.jwk_thumbprint(public_key) == RFC7638_THUMBPRINT


@pytest.mark.parametrize("bits", [2048, 3072, 4096])
def test_the_kid_is_the_rfc_7638_thumbprint_of_the_public_key(bits):
    material = crypto.generate(bits)
    jwk = RSAAlgorithm.to_jwk(material.private_key.public_key(), as_dict=True)
    canonical = json.dumps(
        {"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True
    )
    assert material.kid == b64url(hashlib.sha256(canonical.encode()).digest())
    assert len(material.kid) == 43


def test_an_imported_key_gets_the_same_kid_as_when_generated():
    key = rsa_key(2048, 0)
    assert crypto.load_private_pem(pkcs1_pem(key)).kid == crypto.describe(key).kid


# --- Encryption at rest ----------------------------------------------------------------------


def test_an_encrypted_private_key_decrypts_to_the_same_key():
    key = rsa_key(2048, 0)
    ciphertext = crypto.encrypt_private_key(key)
    assert crypto.decrypt_private_key(ciphertext).private_numbers() == key.private_numbers()


def test_a_key_encrypted_under_an_old_encryption_key_decrypts_when_that_key_is_second(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PORTAL_ENCRYPTION_KEYS = [old]
    ciphertext = crypto.encrypt_private_key(rsa_key(2048, 0))
    settings.PORTAL_ENCRYPTION_KEYS = [new, old]
    decrypted = crypto.decrypt_private_key(ciphertext)
    assert decrypted.private_numbers() == rsa_key(2048, 0).private_numbers()


def test_reencrypt_moves_a_key_to_the_first_encryption_key(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PORTAL_ENCRYPTION_KEYS = [old]
    ciphertext = crypto.encrypt_private_key(rsa_key(2048, 0))
    settings.PORTAL_ENCRYPTION_KEYS = [new, old]

    rotated = crypto.reencrypt(ciphertext)

    Fernet(new.encode()).decrypt(rotated.encode())
    with pytest.raises(InvalidToken):
        Fernet(old.encode()).decrypt(rotated.encode())
    settings.PORTAL_ENCRYPTION_KEYS = [new]
    decrypted = crypto.decrypt_private_key(rotated)
    assert decrypted.private_numbers() == rsa_key(2048, 0).private_numbers()


def test_decrypting_with_none_of_the_encryption_keys_says_which_setting_to_fix(settings):
    ciphertext = crypto.encrypt_private_key(rsa_key(2048, 0))
    settings.PORTAL_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(EncryptionKeyError) as excinfo:
        crypto.decrypt_private_key(ciphertext)
    assert "none of PORTAL_ENCRYPTION_KEYS fits" in str(excinfo.value)


def test_reencrypting_with_none_of_the_encryption_keys_raises_encryption_key_error(settings):
    ciphertext = crypto.encrypt_private_key(rsa_key(2048, 0))
    settings.PORTAL_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(EncryptionKeyError, match="PORTAL_ENCRYPTION_KEYS"):
        crypto.reencrypt(ciphertext)


def test_encrypting_without_any_encryption_key_raises_encryption_key_error(settings):
    settings.PORTAL_ENCRYPTION_KEYS = []
    with pytest.raises(EncryptionKeyError, match="PORTAL_ENCRYPTION_KEYS is empty"):
        crypto.encrypt_private_key(rsa_key(2048, 0))


@pytest.mark.parametrize(
    "arrival",
    ["generated", "imported-pkcs1", "imported-pkcs8-encrypted", "imported-then-rotated"],
)
def test_private_keys_never_reach_the_database_in_the_clear(db, cli_actor, arrival):
    issuer = issuer_create(actor=cli_actor, name="plant-a")
    if arrival == "generated":
        keypair_generate(actor=cli_actor, issuer=issuer, bits=2048)
        keys = [rsa_key(2048, 0)]  # what the pool served to generate()
    elif arrival == "imported-pkcs1":
        keys = [rsa_key(2048, 1)]
        keypair_import(actor=cli_actor, issuer=issuer, pem=pkcs1_pem(keys[0]))
    elif arrival == "imported-pkcs8-encrypted":
        keys = [rsa_key(3072, 0)]
        pem = pkcs8_pem(keys[0], PASSPHRASE)
        keypair_import(actor=cli_actor, issuer=issuer, pem=pem, passphrase=PASSPHRASE)
    else:
        keys = [rsa_key(2048, 1), rsa_key(2048, 0)]
        keypair_import(actor=cli_actor, issuer=issuer, pem=pkcs1_pem(keys[0]))
        keypair_rotate(actor=cli_actor, issuer=issuer)

    dump = database_dump()

    for key in keys:
        assert crypto.describe(key).kid in dump  # the dump does see the key pair's row
        assert leaked(private_fragments(key), dump) == []
    assert PASSPHRASE not in dump


def test_the_leak_check_finds_a_private_key_written_in_the_clear(db, cli_actor):
    """The check above is not vacuous: a PEM pasted into a text column is found."""
    key = rsa_key(2048, 0)
    issuer_create(actor=cli_actor, name="plant-a", description=pkcs1_pem(key).decode())
    found = leaked(private_fragments(key), database_dump())
    assert "pkcs1 PEM line 0" in found
    assert "pkcs8 DER" not in found


# --- The cache of loaded signing keys --------------------------------------------------------


class CountingLoader:
    def __init__(self, key: rsa.RSAPrivateKey):
        self.ciphertext = crypto.encrypt_private_key(key)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return self.ciphertext


def test_the_signing_key_cache_loads_a_key_once():
    cache = crypto.SigningKeyCache()
    loader = CountingLoader(rsa_key(2048, 0))

    first = cache.get("kid-1", loader)
    second = cache.get("kid-1", loader)

    assert loader.calls == 1
    assert second is first
    assert first.private_numbers() == rsa_key(2048, 0).private_numbers()
    assert "kid-1" in cache


def test_the_signing_key_cache_keeps_keys_apart_by_kid():
    cache = crypto.SigningKeyCache()
    one, two = CountingLoader(rsa_key(2048, 0)), CountingLoader(rsa_key(2048, 1))
    assert cache.get("kid-1", one).private_numbers() == rsa_key(2048, 0).private_numbers()
    assert cache.get("kid-2", two).private_numbers() == rsa_key(2048, 1).private_numbers()
    assert (one.calls, two.calls) == (1, 1)


def test_forget_drops_a_key_from_the_signing_key_cache():
    cache = crypto.SigningKeyCache()
    loader = CountingLoader(rsa_key(2048, 0))
    cache.get("kid-1", loader)

    cache.forget("kid-1")

    assert "kid-1" not in cache
    cache.get("kid-1", loader)
    assert loader.calls == 2


def test_forgetting_an_unknown_kid_is_harmless():
    crypto.SigningKeyCache().forget("never-loaded")


def test_a_failed_load_caches_nothing(settings):
    cache = crypto.SigningKeyCache()
    loader = CountingLoader(rsa_key(2048, 0))
    settings.PORTAL_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(EncryptionKeyError):
        cache.get("kid-1", loader)
    assert "kid-1" not in cache


def test_minting_loads_the_active_key_into_the_signing_key_cache(issuer, key_pair, cli_actor):
    assert key_pair.kid not in crypto.signing_keys
    token_mint(actor=cli_actor, issuer=issuer, label="line 3")
    assert key_pair.kid in crypto.signing_keys


def test_a_rotation_drops_the_retired_key_from_the_cache_once_it_commits(
    issuer, key_pair, cli_actor, django_capture_on_commit_callbacks
):
    token_mint(actor=cli_actor, issuer=issuer, label="line 3")
    with django_capture_on_commit_callbacks() as callbacks:
        new_pair = keypair_rotate(actor=cli_actor, issuer=issuer)
    assert key_pair.kid in crypto.signing_keys  # not committed yet

    for callback in callbacks:
        callback()

    assert key_pair.kid not in crypto.signing_keys
    assert new_pair.kid != key_pair.kid


def test_after_a_rotation_commits_minting_signs_with_the_new_key(
    issuer, key_pair, cli_actor, django_capture_on_commit_callbacks
):
    token_mint(actor=cli_actor, issuer=issuer, label="line 3")
    with django_capture_on_commit_callbacks(execute=True):
        new_pair = keypair_rotate(actor=cli_actor, issuer=issuer)
    minted = token_mint(actor=cli_actor, issuer=issuer, label="line 3")
    assert minted.record.key_pair_id == new_pair.pk
    assert key_pair.kid not in crypto.signing_keys
    assert new_pair.kid in crypto.signing_keys


def test_retiring_a_key_drops_it_from_the_cache_once_it_commits(
    issuer, key_pair, cli_actor, django_capture_on_commit_callbacks
):
    token_mint(actor=cli_actor, issuer=issuer, label="line 3")
    with django_capture_on_commit_callbacks(execute=True):
        keypair_retire(actor=cli_actor, key_pair=key_pair)
    assert key_pair.kid not in crypto.signing_keys


def test_replacing_a_key_by_import_drops_the_old_one_from_the_cache(
    issuer, key_pair, cli_actor, django_capture_on_commit_callbacks
):
    token_mint(actor=cli_actor, issuer=issuer, label="line 3")
    with django_capture_on_commit_callbacks(execute=True):
        keypair_import(
            actor=cli_actor, issuer=issuer, pem=pkcs8_pem(rsa_key(2048, 5)), replace_active=True
        )
    assert key_pair.kid not in crypto.signing_keys


def test_a_committed_rotation_drops_the_retired_key_from_the_cache(transactional_db, cli_actor):
    issuer = issuer_create(actor=cli_actor, name="plant-a")
    old = keypair_generate(actor=cli_actor, issuer=issuer, bits=2048)
    token_mint(actor=cli_actor, issuer=issuer, label="line 3")
    assert old.kid in crypto.signing_keys

    keypair_rotate(actor=cli_actor, issuer=issuer)

    assert old.kid not in crypto.signing_keys
    old.refresh_from_db()
    assert old.status == KeyPair.Status.RETIRED
