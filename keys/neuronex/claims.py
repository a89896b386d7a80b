"""What a token looks like to the verifiers (neuronex-compat.md rules 1, 2, 7 and 8)."""

from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from keys.neuronex.profiles import AUD_EKUIPER, ISS_BARE, ISS_FILENAME, KEY_FILE_SUFFIX

ALGORITHM = "RS256"  # Neuron accepts nothing else
# PyJWT writes exactly this header (sorted keys, no spaces) when given no extra headers: no
# `kid`, and no claims replicated into the header, which Neuron would compare with the payload.
HEADER = {"alg": ALGORITHM, "typ": "JWT"}


def key_file_name(name: str) -> str:
    return f"{name}{KEY_FILE_SUFFIX}"


def iss_for(name: str, iss_style: str) -> str:
    """The `iss` claim that makes each verifier find ``<name>.pem``."""
    if iss_style == ISS_FILENAME:
        return key_file_name(name)
    if iss_style == ISS_BARE:
        return name
    raise ValueError(f"unknown iss style {iss_style!r}")


def build_claims(*, iss: str, aud: str, jti: str, iat: int, exp: int) -> dict[str, Any]:
    """The payload as minted.

    ``iat`` and ``exp`` are JSON integers and always present: Neuron checks ``exp`` only when it
    is an integer, so the string form the vendor docs print would never expire. No ``nbf``, no
    ``user`` (a token without one is admin to Neuron), and ``bodyEncode`` as the integer 0.
    """
    if not isinstance(iat, int) or not isinstance(exp, int):
        raise TypeError("iat and exp must be integers")
    if exp <= iat:
        raise ValueError("exp must be after iat")
    return {"iss": iss, "aud": aud, "iat": iat, "exp": exp, "jti": jti, "bodyEncode": 0}


def encode_token(claims: dict[str, Any], private_key: RSAPrivateKey) -> str:
    return jwt.encode(claims, private_key, algorithm=ALGORITHM)


def authorization_header(token: str, audience: str) -> str:
    """The header value a verifier of this audience takes: Neuron skips exactly 7 bytes
    ("Bearer "), standalone eKuiper refuses the prefix and wants the bare token."""
    return token if audience == AUD_EKUIPER else f"Bearer {token}"
