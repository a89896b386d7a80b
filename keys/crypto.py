"""RSA key material: generation, import, public PEM, thumbprints, encryption at rest, and the
per-process cache of loaded signing keys."""

import base64
import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

from keys.errors import InvalidInput
from keys.neuronex.profiles import RSA_KEY_SIZES

PUBLIC_EXPONENT = 65537
MAX_IMPORT_BYTES = 64 * 1024


class EncryptionKeyError(RuntimeError):
    """A stored private key cannot be decrypted with PORTAL_ENCRYPTION_KEYS."""


@dataclass(frozen=True)
class KeyMaterial:
    """A private key with what the portal stores about it (the private part still in memory)."""

    private_key: rsa.RSAPrivateKey
    bits: int
    public_pem: str
    kid: str


def _validate_bits(bits: int, field: str = "bits") -> None:
    if bits not in RSA_KEY_SIZES:
        sizes = ", ".join(str(size) for size in RSA_KEY_SIZES)
        raise InvalidInput(f"RSA keys must have {sizes} bits, not {bits}.", field=field)


def generate(bits: int = 2048) -> KeyMaterial:
    _validate_bits(bits)
    return describe(rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=bits))


def describe(private_key: rsa.RSAPrivateKey) -> KeyMaterial:
    public_key = private_key.public_key()
    return KeyMaterial(
        private_key=private_key,
        bits=private_key.key_size,
        public_pem=public_pem(public_key),
        kid=jwk_thumbprint(public_key),
    )


def load_private_pem(data: bytes, passphrase: str | None = None) -> KeyMaterial:
    """Read a private key as ``openssl genrsa`` (PKCS#1) or ``openssl genpkey`` (PKCS#8) writes
    it, optionally passphrase-protected, refusing anything that is not an RSA key of a size the
    verifiers take."""
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidInput("That file is too large to be a PEM private key.", field="file")
    if b"PRIVATE KEY-----" not in data:
        if b"PUBLIC KEY-----" in data or b"CERTIFICATE-----" in data:
            raise InvalidInput(
                "That is a public key or certificate: importing needs the private key "
                "(-----BEGIN RSA PRIVATE KEY----- or -----BEGIN PRIVATE KEY-----).",
                field="file",
            )
        raise InvalidInput(
            "That is not a PEM private key: expected -----BEGIN RSA PRIVATE KEY----- "
            "or -----BEGIN PRIVATE KEY-----.",
            field="file",
        )
    password = passphrase.encode() if passphrase else None
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except TypeError as exc:
        # cryptography signals both "needs a passphrase" and "needs none" with TypeError.
        if password is None:
            raise InvalidInput(
                "That key is protected by a passphrase: give the passphrase.",
                field="passphrase",
            ) from exc
        raise InvalidInput(
            "That key is not protected by a passphrase: leave the passphrase empty.",
            field="passphrase",
        ) from exc
    except ValueError as exc:
        if password is not None and b"ENCRYPTED" in data:
            raise InvalidInput(
                "The passphrase is wrong, or the key file is damaged.", field="passphrase"
            ) from exc
        raise InvalidInput(
            "That PEM block could not be read as a private key; it may be damaged or truncated.",
            field="file",
        ) from exc
    except UnsupportedAlgorithm as exc:
        raise InvalidInput(
            "That key uses an algorithm or encryption this portal cannot read.", field="file"
        ) from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        kind = type(key).__name__.removeprefix("_").replace("PrivateKey", "") or "non-RSA"
        article = "an" if kind[0] in "AEFHILMNORSX" else "a"
        raise InvalidInput(
            f"That is {article} {kind} key; NeuronEX verifies RS256 tokens, which need an RSA key.",
            field="file",
        )
    _validate_bits(key.key_size, field="file")
    return describe(key)


def public_pem(public_key: rsa.RSAPublicKey) -> str:
    """SubjectPublicKeyInfo PEM, one block, LF line ends (neuronex-compat.md rule 3)."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def jwk_thumbprint(public_key: rsa.RSAPublicKey) -> str:
    """RFC 7638 thumbprint: SHA-256 over the required JWK members in lexicographic order."""
    numbers = public_key.public_numbers()
    canonical = json.dumps(
        {"e": _b64url_uint(numbers.e), "kty": "RSA", "n": _b64url_uint(numbers.n)},
        separators=(",", ":"),
        sort_keys=True,
    )
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


# --- Encryption at rest ----------------------------------------------------------------------

_fernet_lock = threading.Lock()
_fernet_cache: tuple[tuple[str, ...], MultiFernet] | None = None


def _fernet() -> MultiFernet:
    global _fernet_cache
    keys = tuple(settings.PORTAL_ENCRYPTION_KEYS)
    with _fernet_lock:
        if _fernet_cache is None or _fernet_cache[0] != keys:
            if not keys:
                raise EncryptionKeyError("PORTAL_ENCRYPTION_KEYS is empty.")
            _fernet_cache = (keys, MultiFernet([Fernet(key) for key in keys]))
        return _fernet_cache[1]


def encrypt_private_key(private_key: rsa.RSAPrivateKey) -> str:
    der = private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return _fernet().encrypt(der).decode("ascii")


def _decrypt_der(ciphertext: str) -> bytes:
    try:
        return _fernet().decrypt(ciphertext.encode("ascii"))
    except InvalidToken as exc:
        raise EncryptionKeyError(
            "A stored private key cannot be decrypted: none of PORTAL_ENCRYPTION_KEYS fits. "
            "Restore the encryption key it was written with."
        ) from exc


def encrypt_text(text: str) -> str:
    """A secret other than a private key (a token kept for a retry), encrypted at rest."""
    return _fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt_text(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise EncryptionKeyError(
            "A stored secret cannot be decrypted: none of PORTAL_ENCRYPTION_KEYS fits."
        ) from exc


def decrypt_private_key(ciphertext: str) -> rsa.RSAPrivateKey:
    key = serialization.load_der_private_key(_decrypt_der(ciphertext), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):  # only RSA keys are ever encrypted
        raise EncryptionKeyError("A stored private key is not an RSA key.")
    return key


def reencrypt(ciphertext: str) -> str:
    """The same secret, encrypted under the first of PORTAL_ENCRYPTION_KEYS."""
    try:
        return _fernet().rotate(ciphertext.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise EncryptionKeyError(
            "A stored secret cannot be decrypted: none of PORTAL_ENCRYPTION_KEYS fits."
        ) from exc


def private_pem(private_key: rsa.RSAPrivateKey) -> str:
    """PKCS#8 PEM, unencrypted: only for the one audited download."""
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


# --- Loaded signing keys ---------------------------------------------------------------------


class SigningKeyCache:
    """Loaded private keys by ``kid``, shared by the threads of one process.

    Loading an RSA private key validates it (about 35 ms for 2048 bits here), which costs more
    than a hundred signatures, so each key is decrypted and loaded once per process. Entries are
    dropped when their key pair is retired; callers only ever ask for the key of a pair that the
    database says is active, so a stale entry in another process is never used to sign. The
    thumbprint, not the row id, is the cache key: a row id can be reused after a rollback or a
    restore, a thumbprint names one key.
    """

    def __init__(self) -> None:
        self._keys: dict[str, rsa.RSAPrivateKey] = {}
        self._lock = threading.Lock()

    def get(self, kid: str, load_ciphertext: Callable[[], str]) -> rsa.RSAPrivateKey:
        """The loaded key for ``kid``; ``load_ciphertext`` is called only on a miss."""
        key = self._keys.get(kid)
        if key is not None:
            return key
        with self._lock:
            key = self._keys.get(kid)
            if key is None:
                key = decrypt_private_key(load_ciphertext())
                self._keys[kid] = key
            return key

    def forget(self, kid: str) -> None:
        with self._lock:
            self._keys.pop(kid, None)

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()

    def __contains__(self, kid: str) -> bool:
        return kid in self._keys


signing_keys = SigningKeyCache()


def public_jwk(public_pem_text: str, kid: str) -> dict:
    """The public key as a JWK (RFC 7517) for RS256 signatures."""
    public_key = serialization.load_pem_public_key(public_pem_text.encode("ascii"))
    numbers = public_key.public_numbers()
    return {
        "kty": "RSA",
        "use": "sig",
        "alg": "RS256",
        "kid": kid,
        "n": _b64url_uint(numbers.n),
        "e": _b64url_uint(numbers.e),
    }
