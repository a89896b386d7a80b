from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric import rsa

from keys import clock, crypto
from keys.services.actor import Actor

# Key generation costs up to a second for 4096 bits: each test draws from pools made once per
# session instead, distinct keys within a test (rotations need a new key each time).
_generate = rsa.generate_private_key
_POOLS: dict[int, list[rsa.RSAPrivateKey]] = {}


def rsa_key(bits: int = 2048, index: int = 0) -> rsa.RSAPrivateKey:
    pool = _POOLS.setdefault(bits, [])
    while len(pool) <= index:
        pool.append(_generate(public_exponent=65537, key_size=bits))
    return pool[index]


@pytest.fixture(autouse=True)
def fast_keygen(monkeypatch):
    """Serve pre-made keys to keys.crypto.generate. A test that must see real generation
    calls `fast_keygen.undo()`."""
    drawn: dict[int, int] = {}

    def generate_private_key(*, public_exponent, key_size):
        index = drawn.get(key_size, 0)
        drawn[key_size] = index + 1
        return rsa_key(key_size, index)

    monkeypatch.setattr(crypto.rsa, "generate_private_key", generate_private_key)
    return monkeypatch


@pytest.fixture(autouse=True)
def _encryption_key(settings):
    """Each test gets its own encryption key, never the development key under var/."""
    settings.PORTAL_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    crypto.signing_keys.clear()
    yield
    crypto.signing_keys.clear()


@pytest.fixture(autouse=True)
def etc_dir(settings, tmp_path):
    """The default export target's folder (NEURONEX_ETC_DIR): a fresh one for each test."""
    folder = tmp_path / "neuronex-etc"
    folder.mkdir()
    settings.NEURONEX_ETC_DIR = str(folder)
    return folder


@pytest.fixture(autouse=True)
def _cache(settings, tmp_path):
    """A fresh file cache per test, so that one test's throttle counters never reach another."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }


@pytest.fixture
def now():
    """Freeze the clock at a fixed instant; tests move it with `frozen_at` themselves."""
    instant = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
    with clock.frozen_at(instant):
        yield instant


@pytest.fixture
def cli_actor() -> Actor:
    return Actor(user=None, channel="cli", name="cli:test")


@pytest.fixture
def issuer(db, cli_actor):
    from keys.services.issuers import issuer_create

    return issuer_create(actor=cli_actor, name="plant-a")


@pytest.fixture
def key_pair(issuer, cli_actor):
    """An active 2048-bit key pair for `issuer`."""
    from keys.services.keypairs import keypair_generate

    return keypair_generate(actor=cli_actor, issuer=issuer, bits=2048)
