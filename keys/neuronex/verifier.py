"""What a NeuronEX-family verifier does with a presented token (neuronex-compat.md), step by
step, so that the portal can say why a token is accepted or refused. Never raises."""

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from keys.neuronex.profiles import AUD_EKUIPER, PROFILE_EKUIPER, PROFILE_NEURON

MAX_TOKEN_BYTES = 16 * 1024
NEURON_ALGORITHMS = ("RS256",)
EKUIPER_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
HEADER_CLAIMS_NEURON_COMPARES = ("iss", "sub", "aud")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    reason: str


@dataclass(frozen=True)
class FoundKey:
    """The key file a verifier picked: where, and its bytes as the verifier reads them."""

    source: str
    content: bytes


@dataclass(frozen=True)
class Parsed:
    signing_input: bytes
    header: dict
    payload: dict
    signature: bytes


class _Refused(Exception):
    def __init__(self, check: Check):
        self.check = check


def verify(
    token: str,
    *,
    profile: str,
    find_key: Callable[[str], FoundKey | None],
    audience: str | None,
    now: int,
) -> list[Check]:
    """Each check a verifier of ``profile`` makes, in its order, up to the first that a later
    one cannot run without. ``audience`` is the `aud` to require (None: not checked)."""
    checks: list[Check] = []
    try:
        parsed = _parse(token)
        checks.append(Check("format", True, "three base64url parts with JSON header and payload"))
        checks.append(_header(parsed, profile))
        iss = parsed.payload.get("iss")
        if not isinstance(iss, str):
            raise _Refused(Check("key", False, "the payload has no string iss claim"))
        found = find_key(iss)
        if found is None:
            raise _Refused(Check("key", False, f"no key file matches iss {iss!r}"))
        checks.append(Check("key", True, f"iss {iss!r} selects {found.source}"))
        checks.append(_signature(parsed, found))
        checks.append(_expiry(parsed.payload, now))
        checks.append(_audience(parsed.payload, profile, audience))
    except _Refused as refused:
        checks.append(refused.check)
    return checks


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _parse(token: str) -> Parsed:
    if not isinstance(token, str) or not token.strip():
        raise _Refused(Check("format", False, "no token given"))
    token = token.strip()
    if len(token) > MAX_TOKEN_BYTES:
        raise _Refused(Check("format", False, f"longer than {MAX_TOKEN_BYTES} bytes"))
    parts = token.split(".")
    if len(parts) != 3:
        raise _Refused(Check("format", False, f"{len(parts)} dot-separated parts, not 3"))
    try:
        header = json.loads(_b64decode(parts[0]))
        payload = json.loads(_b64decode(parts[1]))
        signature = _b64decode(parts[2])
    except (binascii.Error, ValueError, RecursionError):
        raise _Refused(Check("format", False, "a part is not base64url-encoded JSON")) from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise _Refused(Check("format", False, "header and payload must be JSON objects"))
    return Parsed(f"{parts[0]}.{parts[1]}".encode("ascii"), header, payload, signature)


def _header(parsed: Parsed, profile: str) -> Check:
    alg = parsed.header.get("alg")
    allowed = EKUIPER_ALGORITHMS if profile == PROFILE_EKUIPER else NEURON_ALGORITHMS
    if alg not in allowed:
        raise _Refused(
            Check("header", False, f"alg {alg!r} is not accepted ({', '.join(allowed)})")
        )
    for claim in HEADER_CLAIMS_NEURON_COMPARES:
        if claim in parsed.header and parsed.header[claim] != parsed.payload.get(claim):
            raise _Refused(
                Check("header", False, f"the header's {claim} differs from the payload's")
            )
    return Check("header", True, f"alg {alg}")


def _signature(parsed: Parsed, found: FoundKey) -> Check:
    try:
        public_key = serialization.load_pem_public_key(found.content)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise _Refused(
            Check("signature", False, f"{found.source} is not a readable PEM public key")
        ) from None
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise _Refused(Check("signature", False, f"{found.source} is not an RSA public key"))
    algorithm = jwt.get_algorithm_by_name(parsed.header["alg"])
    if not algorithm.verify(parsed.signing_input, public_key, parsed.signature):
        raise _Refused(
            Check("signature", False, f"the signature does not match the key in {found.source}")
        )
    return Check("signature", True, f"signed by the key in {found.source}")


def _expiry(payload: dict, now: int) -> Check:
    exp = payload.get("exp")
    if exp is None:
        return Check("exp", False, "no exp claim: the token never expires")
    if isinstance(exp, bool) or not isinstance(exp, int):
        return Check(
            "exp",
            False,
            f"exp is {type(exp).__name__} {exp!r}, not an integer: Neuron never checks it, so "
            "the token never expires there",
        )
    if exp <= now:
        return Check("exp", False, f"expired {now - exp} s ago")
    return Check("exp", True, f"expires in {exp - now} s")


def _audience(payload: dict, profile: str, audience: str | None) -> Check:
    if profile == PROFILE_NEURON or audience is None:
        return Check("aud", True, "not checked by this verifier")
    aud = payload.get("aud")
    if profile == PROFILE_EKUIPER:
        values = aud if isinstance(aud, list) else [aud]
        if AUD_EKUIPER in values:
            return Check("aud", True, f"contains {AUD_EKUIPER!r}")
        return Check("aud", False, f"aud {aud!r} does not contain {AUD_EKUIPER!r}")
    if aud == audience:
        return Check("aud", True, f"aud {aud!r}")
    return Check("aud", False, f"aud {aud!r} is not {audience!r}")
