"""keys.neuronex.verifier: the pure emulation of the NeuronEX-family verifiers, fed hand-built
tokens and a key folder that is a dict (neuronex-compat.md)."""

import base64
import json

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from keys.neuronex.profiles import PROFILE_EKUIPER, PROFILE_NEURON, PROFILE_NEURONEX
from keys.neuronex.verifier import FoundKey, verify
from tests.conftest import rsa_key

NOW = 1_780_315_200  # 2026-06-01 12:00:00 UTC
ISS = "plant-a.pem"
PROFILES = [PROFILE_NEURONEX, PROFILE_NEURON, PROFILE_EKUIPER]
AUDIENCE = {PROFILE_NEURONEX: "neuronex", PROFILE_NEURON: "neuron", PROFILE_EKUIPER: "eKuiper"}
ALL_CHECKS = ["format", "header", "key", "signature", "exp", "aud"]
DROP = object()  # claims(name=DROP) leaves the claim out


def public_pem(private_key) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def folder_of(files: dict[str, bytes]):
    """A find_key over a dict {iss: key file content}."""

    def find_key(iss: str) -> FoundKey | None:
        if iss not in files:
            return None
        return FoundKey(f"etc/{iss}", files[iss])

    return find_key


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64json(value) -> str:
    return b64(json.dumps(value).encode())


def claims(profile: str = PROFILE_NEURONEX, **changes) -> dict:
    payload = {
        "iss": ISS,
        "aud": AUDIENCE[profile],
        "iat": NOW - 60,
        "exp": NOW + 3600,
        "jti": "00000000-0000-4000-8000-000000000001",
        "bodyEncode": 0,
    }
    for name, value in changes.items():
        if value is DROP:
            payload.pop(name, None)
        else:
            payload[name] = value
    return payload


def sign(payload: dict, key=None, algorithm: str = "RS256", headers=None) -> str:
    """Built by hand rather than by jwt.encode, which refuses some of the claims tested here."""
    header = {"alg": algorithm, "typ": "JWT", **(headers or {})}
    signing_input = f"{b64json(header)}.{b64json(payload)}"
    signer = jwt.get_algorithm_by_name(algorithm)
    signature = signer.sign(signing_input.encode("ascii"), key or rsa_key())
    return f"{signing_input}.{b64(signature)}"


def run(token: str, profile: str = PROFILE_NEURONEX, files=None, audience="default"):
    if files is None:
        files = {ISS: public_pem(rsa_key())}
    if audience == "default":
        audience = AUDIENCE[profile]
    return verify(token, profile=profile, find_key=folder_of(files), audience=audience, now=NOW)


def outcome(checks) -> dict[str, bool]:
    return {check.name: check.ok for check in checks}


def failing(checks):
    failed = [check for check in checks if not check.ok]
    assert failed, f"expected a failing check in {checks}"
    return failed[0]


def replace_part(token: str, index: int, part: str) -> str:
    parts = token.split(".")
    parts[index] = part
    return ".".join(parts)


# A good token ----------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_a_good_token_passes_every_check_in_order(profile):
    checks = run(sign(claims(profile)), profile)
    assert [check.name for check in checks] == ALL_CHECKS
    assert all(check.ok for check in checks), checks
    assert all(check.reason for check in checks)
    assert f"selects etc/{ISS}" in checks[2].reason


def test_surrounding_whitespace_is_ignored():
    assert all(check.ok for check in run("  " + sign(claims()) + "\n"))


# Signature ---------------------------------------------------------------------------------------


def test_a_tampered_payload_fails_the_signature_check():
    token = sign(claims())
    forged = replace_part(token, 1, b64json(claims(exp=NOW + 10 * 365 * 86400)))
    checks = run(forged)
    assert outcome(checks) == {"format": True, "header": True, "key": True, "signature": False}
    assert "does not match the key in etc/plant-a.pem" in checks[-1].reason


def test_a_tampered_signature_fails_the_signature_check():
    token = sign(claims())
    signature = bytearray(base64.urlsafe_b64decode(token.split(".")[2] + "=="))
    signature[10] ^= 0x01
    checks = run(replace_part(token, 2, b64(bytes(signature))))
    assert failing(checks).name == "signature"


def test_a_truncated_signature_fails_the_signature_check():
    token = sign(claims())
    checks = run(replace_part(token, 2, token.split(".")[2][:40]))
    assert failing(checks).name == "signature"


def test_a_token_signed_by_another_key_fails_the_signature_check():
    checks = run(sign(claims(), key=rsa_key(2048, 1)))
    assert outcome(checks) == {"format": True, "header": True, "key": True, "signature": False}


# Header --------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", [PROFILE_NEURONEX, PROFILE_NEURON])
def test_hs256_is_refused_by_neuron_and_neuronex(profile):
    token = jwt.encode(claims(profile), "a shared secret of at least 32 bytes!", algorithm="HS256")
    checks = run(token, profile)
    assert outcome(checks) == {"format": True, "header": False}
    assert "'HS256' is not accepted" in checks[-1].reason


@pytest.mark.parametrize("profile", PROFILES)
def test_alg_none_is_refused_by_every_profile(profile):
    token = f"{b64json({'alg': 'none', 'typ': 'JWT'})}.{b64json(claims(profile))}."
    checks = run(token, profile)
    assert outcome(checks) == {"format": True, "header": False}
    assert "'none'" in checks[-1].reason


def test_hs256_is_refused_by_ekuiper_too():
    token = jwt.encode(claims(PROFILE_EKUIPER), "a shared secret of at least 32 bytes!", "HS256")
    assert failing(run(token, PROFILE_EKUIPER)).name == "header"


def test_a_header_without_alg_is_refused():
    token = f"{b64json({'typ': 'JWT'})}.{b64json(claims())}.{b64(b'sig')}"
    assert outcome(run(token)) == {"format": True, "header": False}


@pytest.mark.parametrize("algorithm", ["PS256", "RS384", "PS512"])
def test_other_rsa_algorithms_are_accepted_by_ekuiper_only(algorithm):
    ekuiper = run(sign(claims(PROFILE_EKUIPER), algorithm=algorithm), PROFILE_EKUIPER)
    assert [check.name for check in ekuiper] == ALL_CHECKS
    assert all(check.ok for check in ekuiper), ekuiper
    assert ekuiper[1].reason == f"alg {algorithm}"
    for profile in (PROFILE_NEURON, PROFILE_NEURONEX):
        checks = run(sign(claims(profile), algorithm=algorithm), profile)
        assert outcome(checks) == {"format": True, "header": False}
        assert "(RS256)" in checks[-1].reason


def test_a_ps256_signature_is_really_checked_on_ekuiper():
    token = sign(claims(PROFILE_EKUIPER), key=rsa_key(2048, 1), algorithm="PS256")
    assert failing(run(token, PROFILE_EKUIPER)).name == "signature"


@pytest.mark.parametrize("profile", [PROFILE_NEURONEX, PROFILE_NEURON])
@pytest.mark.parametrize(
    ("claim", "value"), [("aud", "somebody-else"), ("iss", "other.pem"), ("sub", "x")]
)
def test_a_header_claim_differing_from_the_payload_is_refused(profile, claim, value):
    checks = run(sign(claims(profile), headers={claim: value}), profile)
    assert outcome(checks) == {"format": True, "header": False}
    assert f"header's {claim} differs" in checks[-1].reason


@pytest.mark.parametrize("profile", [PROFILE_NEURONEX, PROFILE_NEURON])
def test_a_header_claim_equal_to_the_payload_is_accepted(profile):
    payload = claims(profile)
    token = sign(payload, headers={"iss": payload["iss"], "aud": payload["aud"]})
    assert all(check.ok for check in run(token, profile))


# Garbage never raises ------------------------------------------------------------------------


GOOD_HEADER = b64json({"alg": "RS256", "typ": "JWT"})
GARBAGE = {
    "empty": "",
    "blank": "   \n\t",
    "one part": "abc",
    "two parts": "a.b",
    "four parts": "a.b.c.d",
    "empty parts": "..",
    "not base64": "!!!.###.$$$",
    "bad padding": "a.b.c",
    "not json": f"{b64(b'not json')}.{b64(b'{also not}')}.{b64(b'sig')}",
    "json array payload": f"{GOOD_HEADER}.{b64json([1, 2, 3])}.{b64(b'sig')}",
    "json string header": f"{b64json('RS256')}.{b64json(claims())}.{b64(b'sig')}",
    "json null payload": f"{GOOD_HEADER}.{b64(b'null')}.{b64(b'sig')}",
    "not utf-8": f"{GOOD_HEADER}.{b64(bytes([0xFF, 0xFE, 0x80]))}.{b64(b'sig')}",
    "20 KB": "x" * 20 * 1024,
    "20 KB of dots": ("abcd." * 4096)[:-1],
    "unicode": "ünïcødé.тест.😀",
    "unicode in a base64 part": f"{GOOD_HEADER}.{b64json(claims())}é.{b64(b'sig')}",
    "nul bytes": "\x00.\x00.\x00",
    "deeply nested json": f"{b64(b'[' * 5000 + b']' * 5000)}.{b64json(claims())}.{b64(b's')}",
}


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("token", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_never_raises_and_fails_the_format_check(token, profile):
    checks = run(token, profile)
    assert len(checks) == 1
    assert checks[0].name == "format"
    assert not checks[0].ok
    assert checks[0].reason


@pytest.mark.parametrize("value", [None, 42, b"bytes"])
def test_a_token_that_is_not_a_string_fails_the_format_check(value):
    checks = verify(value, profile=PROFILE_NEURONEX, find_key=folder_of({}), audience=None, now=0)
    assert [(check.name, check.ok) for check in checks] == [("format", False)]


def test_the_reasons_say_what_is_wrong():
    assert run("")[0].reason == "no token given"
    assert run("a.b")[0].reason == "2 dot-separated parts, not 3"
    assert run("x" * 20 * 1024)[0].reason == "longer than 16384 bytes"
    assert "JSON objects" in run(GARBAGE["json array payload"])[0].reason


# iss and the key file ------------------------------------------------------------------------


@pytest.mark.parametrize("iss", [DROP, None, 42, ["plant-a.pem"], {"name": "plant-a.pem"}])
def test_a_missing_or_non_string_iss_fails_the_key_check(iss):
    checks = run(sign(claims(iss=iss)))
    assert outcome(checks) == {"format": True, "header": True, "key": False}
    assert checks[-1].reason == "the payload has no string iss claim"


def test_no_key_for_the_iss_fails_the_key_check():
    checks = run(sign(claims(iss="plant-b.pem")))
    assert outcome(checks) == {"format": True, "header": True, "key": False}
    assert "no key file matches iss 'plant-b.pem'" in checks[-1].reason


def test_find_key_is_asked_with_the_iss_exactly():
    asked = []

    def find_key(iss):
        asked.append(iss)

    verify(
        sign(claims(iss="Plant-A.PEM")),
        profile=PROFILE_NEURON,
        find_key=find_key,
        audience=None,
        now=NOW,
    )
    assert asked == ["Plant-A.PEM"]


def ec_public_pem() -> bytes:
    return public_pem(ec.generate_private_key(ec.SECP256R1()))


def unknown_algorithm_pem() -> bytes:
    # SubjectPublicKeyInfo with the algorithm OID 1.2.3.4, which no library knows.
    der = bytes.fromhex("300d" + "3005" + "06032a0304" + "030400010203")
    return b"-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(der) + b"\n-----END PUBLIC KEY-----\n"


def private_pem() -> bytes:
    return rsa_key().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


NOT_PEM = "is not a readable PEM public key"
KEY_FILES = {
    "empty": (lambda: b"", NOT_PEM),
    "not a PEM": (lambda: b"hello, I am not a key\n", NOT_PEM),
    "an empty PEM": (lambda: b"-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n", NOT_PEM),
    "a cut PEM": (lambda: public_pem(rsa_key())[:200], NOT_PEM),
    "a private key": (private_pem, NOT_PEM),
    "an EC key": (ec_public_pem, "is not an RSA public key"),
    "an unknown key type": (unknown_algorithm_pem, "is not a"),
}


@pytest.mark.parametrize("kind", KEY_FILES.keys())
def test_a_key_file_that_is_not_an_rsa_public_key_fails_the_signature_check(kind):
    make, reason = KEY_FILES[kind]
    checks = run(sign(claims()), files={ISS: make()})
    assert outcome(checks) == {"format": True, "header": True, "key": True, "signature": False}
    assert "etc/plant-a.pem" in checks[-1].reason
    assert reason in checks[-1].reason


# exp -----------------------------------------------------------------------------------------


def check_named(checks, name):
    return next(check for check in checks if check.name == name)


def test_a_missing_exp_fails_the_exp_check():
    exp = check_named(run(sign(claims(exp=DROP))), "exp")
    assert not exp.ok
    assert "never expires" in exp.reason


def test_a_string_exp_fails_and_says_neuron_never_checks_it():
    checks = run(sign(claims(exp="1679626398")))
    assert check_named(checks, "signature").ok
    exp = check_named(checks, "exp")
    assert not exp.ok
    assert "'1679626398'" in exp.reason
    assert "Neuron never checks it" in exp.reason
    assert "never expires" in exp.reason


@pytest.mark.parametrize("value", [float(NOW + 3600), True, False, [NOW + 3600], None])
def test_an_exp_that_is_not_a_json_integer_fails_the_exp_check(value):
    exp = check_named(run(sign(claims(exp=value))), "exp")
    assert not exp.ok
    if value is not None:
        assert "not an integer" in exp.reason


@pytest.mark.parametrize(
    ("exp", "ok"),
    [(NOW - 86400, False), (NOW - 1, False), (NOW, False), (NOW + 1, True), (NOW + 10**9, True)],
)
def test_exp_must_lie_after_now_with_no_leeway(exp, ok):
    checks = run(sign(claims(exp=exp)))
    assert check_named(checks, "exp").ok is ok
    assert check_named(checks, "aud").ok  # the expiry does not stop the later checks
    assert all(check.ok for check in checks) is ok


def test_exp_reasons_give_the_distance_from_now():
    assert check_named(run(sign(claims(exp=NOW))), "exp").reason == "expired 0 s ago"
    assert check_named(run(sign(claims(exp=NOW - 5))), "exp").reason == "expired 5 s ago"
    assert check_named(run(sign(claims(exp=NOW + 1))), "exp").reason == "expires in 1 s"


def test_iat_in_the_future_and_nbf_are_not_checked():
    checks = run(sign(claims(iat=NOW + 600, nbf=NOW + 600)))
    assert all(check.ok for check in checks)


# aud -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("aud", "ok"),
    [
        ("neuronex", True),
        ("neuron", False),
        ("NeuronEX", False),
        (["neuronex"], False),
        ("", False),
        (DROP, False),
    ],
)
def test_neuronex_requires_the_exact_audience(aud, ok):
    checks = run(sign(claims(PROFILE_NEURONEX, aud=aud)), PROFILE_NEURONEX, audience="neuronex")
    assert check_named(checks, "aud").ok is ok


def test_neuronex_compares_with_the_audience_it_is_given():
    token = sign(claims(PROFILE_NEURONEX, aud="neuron"))
    assert check_named(run(token, audience="neuron"), "aud").ok
    aud = check_named(run(token, audience="neuronex"), "aud")
    assert not aud.ok
    assert aud.reason == "aud 'neuron' is not 'neuronex'"


@pytest.mark.parametrize("aud", ["neuronex", "anything", ["a", "b"], 42, DROP])
@pytest.mark.parametrize("audience", ["neuron", "neuronex", None])
def test_neuron_does_not_check_aud(aud, audience):
    checks = run(sign(claims(PROFILE_NEURON, aud=aud)), PROFILE_NEURON, audience=audience)
    aud_check = check_named(checks, "aud")
    assert aud_check.ok
    assert aud_check.reason == "not checked by this verifier"


@pytest.mark.parametrize(
    ("aud", "ok"),
    [
        ("eKuiper", True),
        (["eKuiper"], True),
        (["neuronex", "eKuiper"], True),
        ("ekuiper", False),
        ("EKUIPER", False),
        (["ekuiper"], False),
        ("neuronex", False),
        ([], False),
        (DROP, False),
    ],
)
def test_ekuiper_requires_ekuiper_in_the_audience_case_sensitively(aud, ok):
    checks = run(sign(claims(PROFILE_EKUIPER, aud=aud)), PROFILE_EKUIPER)
    assert check_named(checks, "aud").ok is ok
    assert all(check.ok for check in checks) is ok
