"""keys.services.verification.verify_token and the verify_token command: a presented token
checked as a NeuronEX-family verifier would, against the portal's active keys or against the
files really in an export target's folder, with what the portal knows of it."""

import base64
import io
import json
from datetime import timedelta
from io import StringIO

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import call_command
from django.core.management.base import CommandError

from keys import clock, crypto
from keys.errors import InvalidInput
from keys.models import ExportTarget
from keys.services.exports import export_target, target_check
from keys.services.issuers import issuer_create, issuer_update
from keys.services.keypairs import keypair_rotate
from keys.services.targets import target_create
from keys.services.tokens import token_mint, token_revoke
from keys.services.verification import verify_token
from tests.conftest import rsa_key

pytestmark = pytest.mark.django_db

ALL_CHECKS = ["format", "header", "key", "signature", "exp", "aud"]
NOT_MINTED_HERE = "The portal has no record of this token: it was not minted here."
FOREIGN_KEY = 7  # index into the 2048-bit pool that no issuer draws in these tests


def default_target() -> ExportTarget:
    return ExportTarget.objects.get(name="default")


def public_pem(private_key) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def issuer_private_key(key_pair):
    return crypto.decrypt_private_key(key_pair.private_key_encrypted)


def hand_signed(private_key, **claims) -> str:
    iat = int(clock.now().timestamp())
    payload = {
        "iss": "plant-a.pem",
        "aud": "neuronex",
        "iat": iat,
        "exp": iat + 3600,
        "bodyEncode": 0,
        **claims,
    }
    return jwt.encode(payload, private_key, algorithm="RS256")


def check(report, name):
    return next(each for each in report.checks if each.name == name)


def failing(report):
    failed = [each for each in report.checks if not each.ok]
    assert failed, report.checks
    return failed[0]


def neuron_folder_target(actor, folder, name="gateway", profile="neuron") -> ExportTarget:
    folder.mkdir()
    return target_create(actor=actor, name=name, path=str(folder), profile=profile)


@pytest.fixture
def minted(issuer, key_pair, cli_actor, now):
    return token_mint(actor=cli_actor, issuer=issuer, label="line 3 SCADA", ttl=timedelta(hours=1))


@pytest.fixture
def exported(minted, cli_actor):
    result = export_target(actor=cli_actor, target=default_target())
    assert result.ok, result.summary
    return minted


# Against the portal's active keys --------------------------------------------------------------


def test_a_portal_token_passes_against_the_portals_active_keys(minted, key_pair):
    report = verify_token(minted.token)
    assert report.accepted
    assert [each.name for each in report.checks] == ALL_CHECKS
    assert report.where == "the portal's active keys"
    assert report.record == minted.record
    assert (
        check(report, "key").reason
        == f"iss 'plant-a.pem' selects plant-a.pem (active key {key_pair.kid})"
    )
    assert report.notes == [
        f"Minted by the portal: {minted.record.jti} ('line 3 SCADA') for issuer plant-a, "
        f"signed by key {key_pair.kid} (active), status active."
    ]


def test_surrounding_whitespace_is_ignored_and_the_record_still_found(minted):
    report = verify_token(f"\n  {minted.token}  \n")
    assert report.accepted
    assert report.record == minted.record


def test_the_record_audience_is_the_one_required(issuer, key_pair, cli_actor, now):
    issuer = issuer_update(actor=cli_actor, issuer=issuer, audience="neuron")
    token = token_mint(actor=cli_actor, issuer=issuer, label="older NeuronEX")
    report = verify_token(token.token)
    assert report.accepted
    assert check(report, "aud").reason == "aud 'neuron'"


# Against the default target's folder ----------------------------------------------------------


def test_before_an_export_the_target_folder_has_no_key_for_it(minted, etc_dir):
    report = verify_token(minted.token, default_target())
    assert not report.accepted
    assert report.where == f"target default ({etc_dir})"
    assert failing(report).name == "key"
    assert failing(report).reason == "no key file matches iss 'plant-a.pem'"


def test_after_export_the_default_target_accepts_a_portal_token(exported, etc_dir):
    report = verify_token(exported.token, default_target())
    assert report.accepted, report.checks
    assert [each.name for each in report.checks] == ALL_CHECKS
    assert check(report, "key").reason == f"iss 'plant-a.pem' selects {etc_dir / 'plant-a.pem'}"
    assert report.record == exported.record


def test_after_a_rotation_and_export_an_older_token_fails_its_signature(
    exported, issuer, key_pair, cli_actor, etc_dir
):
    old_kid = key_pair.kid
    new_key = keypair_rotate(actor=cli_actor, issuer=issuer)
    # Until the export, the folder still holds the old key: the old token still verifies there.
    assert verify_token(exported.token, default_target()).accepted
    assert export_target(actor=cli_actor, target=default_target()).written == ["plant-a.pem"]

    report = verify_token(exported.token, default_target())
    assert not report.accepted
    assert failing(report).name == "signature"
    assert (
        f"It was signed by key {old_kid}, which target default ({etc_dir}) no longer has."
        in report.notes
    )
    assert f"signed by key {old_kid} (retired)" in report.notes[0]

    against_portal = verify_token(exported.token)
    assert failing(against_portal).name == "signature"
    assert (
        f"It was signed by key {old_kid}, which the portal's active keys no longer has."
        in against_portal.notes
    )

    fresh = token_mint(actor=cli_actor, issuer=issuer, label="after rotation")
    report = verify_token(fresh.token, default_target())
    assert report.accepted
    assert f"signed by key {new_key.kid} (active)" in report.notes[0]


def test_an_expired_token_fails_the_exp_check(exported, now):
    with clock.frozen_at(now + timedelta(hours=1) - timedelta(seconds=1)):
        assert verify_token(exported.token, default_target()).accepted
    with clock.frozen_at(now + timedelta(hours=1)):
        for report in (
            verify_token(exported.token),
            verify_token(exported.token, default_target()),
        ):
            assert not report.accepted
            assert failing(report).name == "exp"
            assert failing(report).reason == "expired 0 s ago"
            assert check(report, "signature").ok
            assert "status expired" in report.notes[0]


def test_a_string_exp_is_refused_because_neuron_would_never_expire_it(exported, key_pair, now):
    iat = int(now.timestamp())
    token = hand_signed(
        issuer_private_key(key_pair), iat=str(iat), exp=str(iat + 3600), bodyEncode="0"
    )
    for report in (verify_token(token), verify_token(token, default_target())):
        assert not report.accepted
        assert check(report, "signature").ok  # signed by the issuer's own key
        exp = failing(report)
        assert exp.name == "exp"
        assert f"'{iat + 3600}'" in exp.reason
        assert "Neuron never checks it" in exp.reason
        assert report.record is None
        assert report.notes == [NOT_MINTED_HERE]


def test_a_wrong_audience_is_refused(exported, key_pair):
    token = hand_signed(issuer_private_key(key_pair), aud="neuron")
    for report in (verify_token(token), verify_token(token, default_target())):
        assert not report.accepted
        assert failing(report).name == "aud"
        assert failing(report).reason == "aud 'neuron' is not 'neuronex'"


def test_a_foreign_token_fails_the_signature_and_was_not_minted_here(exported):
    token = hand_signed(rsa_key(2048, FOREIGN_KEY))
    for report in (verify_token(token), verify_token(token, default_target())):
        assert not report.accepted
        assert check(report, "key").ok
        assert failing(report).name == "signature"
        assert report.record is None
        assert report.notes == [NOT_MINTED_HERE]


def test_a_revoked_token_is_still_accepted_until_its_exp(exported, cli_actor):
    token_revoke(actor=cli_actor, token=exported.record, reason="leaked")
    for report in (verify_token(exported.token), verify_token(exported.token, default_target())):
        assert report.accepted
        assert "status revoked" in report.notes[0]
        assert (
            "Revoked, but still accepted by NeuronEX until 2026-06-01 13:00:00 UTC or until the "
            "issuer's key is rotated." in report.notes
        )


def test_a_revoked_token_stops_verifying_once_the_rotated_key_is_exported(
    exported, issuer, cli_actor
):
    token_revoke(actor=cli_actor, token=exported.record)
    keypair_rotate(actor=cli_actor, issuer=issuer)
    export_target(actor=cli_actor, target=default_target())
    report = verify_token(exported.token, default_target())
    assert not report.accepted
    assert "Revoked." in report.notes
    assert not any("still accepted" in note for note in report.notes)


# Neuron and eKuiper targets -------------------------------------------------------------------


def test_a_neuron_target_accepts_a_portal_token_without_checking_aud(minted, cli_actor, tmp_path):
    target = neuron_folder_target(cli_actor, tmp_path / "certs")
    assert export_target(actor=cli_actor, target=target).written == ["plant-a.pem"]
    report = verify_token(minted.token, target)
    assert report.accepted, report.checks
    assert check(report, "aud").reason == "not checked by this verifier"


def test_a_neuron_target_finds_keys_by_prefix_of_the_iss(minted, cli_actor, tmp_path, etc_dir):
    target = neuron_folder_target(cli_actor, tmp_path / "certs")
    export_target(actor=cli_actor, target=target)
    # The portal cannot make two issuers where one name is the start of the other ...
    issuer_create(actor=cli_actor, name="ops")
    with pytest.raises(InvalidInput, match="prefix"):
        issuer_create(actor=cli_actor, name="ops-team")
    # ... so the clash can only come from a file dropped into the folder by hand.
    foreign = rsa_key(2048, FOREIGN_KEY)
    for folder in (tmp_path / "certs", etc_dir):
        (folder / "ops-team.pem").write_bytes(public_pem(foreign))
    token = hand_signed(foreign, iss="ops", aud="whatever")

    report = verify_token(token, target)
    assert report.accepted, report.checks
    assert check(report, "key").reason == f"iss 'ops' selects {tmp_path / 'certs' / 'ops-team.pem'}"
    assert report.notes == [NOT_MINTED_HERE]
    assert any(
        finding.code == "foreign_key_file" and finding.file == "ops-team.pem"
        for finding in target_check(target)
    )

    # NeuronEX looks for the file named exactly iss (or iss + ".pem"): no match.
    exact = verify_token(token, default_target())
    assert not exact.accepted
    assert failing(exact).reason == "no key file matches iss 'ops'"


def test_an_ekuiper_target_accepts_a_file_name_iss_with_the_ekuiper_audience(
    issuer, key_pair, cli_actor, tmp_path, now
):
    issuer = issuer_update(actor=cli_actor, issuer=issuer, audience="eKuiper")
    target = neuron_folder_target(cli_actor, tmp_path / "mgmt", name="rules", profile="ekuiper")
    export_target(actor=cli_actor, target=target)
    token = token_mint(actor=cli_actor, issuer=issuer, label="rules engine")
    report = verify_token(token.token, target)
    assert report.accepted, report.checks
    assert check(report, "aud").reason == "contains 'eKuiper'"


def test_an_ekuiper_target_refuses_a_token_without_ekuiper_in_its_audience(
    minted, cli_actor, tmp_path
):
    target = neuron_folder_target(cli_actor, tmp_path / "mgmt", name="rules", profile="ekuiper")
    export_target(actor=cli_actor, target=target)
    report = verify_token(minted.token, target)
    assert not report.accepted
    assert failing(report).name == "aud"
    assert failing(report).reason == "aud 'neuronex' does not contain 'eKuiper'"


def test_an_ekuiper_target_refuses_a_bare_iss(issuer, key_pair, cli_actor, tmp_path, now):
    issuer = issuer_update(actor=cli_actor, issuer=issuer, iss_style="bare", audience="eKuiper")
    target = neuron_folder_target(cli_actor, tmp_path / "mgmt", name="rules", profile="ekuiper")
    assert export_target(actor=cli_actor, target=target).written == ["plant-a.pem"]
    token = token_mint(actor=cli_actor, issuer=issuer, label="bare")
    assert token.record.claims["iss"] == "plant-a"

    report = verify_token(token.token, target)
    assert not report.accepted
    assert failing(report).name == "key"
    assert failing(report).reason == "no key file matches iss 'plant-a'"
    assert any(finding.code == "iss_unresolvable" for finding in target_check(target))


# Folders that are not there -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda path: None, "does not exist"),
        (lambda path: path.write_text("not a folder"), "is not a folder"),
        (lambda path: path.symlink_to(path.parent), "is a symbolic link"),
    ],
    ids=["missing", "a file", "a symlink"],
)
def test_a_target_whose_folder_is_unusable_gives_a_report(
    minted, cli_actor, tmp_path, make, problem
):
    path = tmp_path / "certs"
    target = target_create(actor=cli_actor, name="gone", path=str(path), profile="neuron")
    make(path)
    report = verify_token(minted.token, target)
    assert not report.accepted
    assert report.where.startswith("target gone (")
    assert problem in report.where
    assert failing(report).name == "key"
    assert report.record == minted.record


def test_the_default_target_with_its_folder_removed_gives_a_report(minted, etc_dir):
    etc_dir.rmdir()
    report = verify_token(minted.token, default_target())
    assert not report.accepted
    assert "does not exist" in report.where


# Any input string -----------------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


GARBAGE = {
    "empty": "",
    "blank": "  \n",
    "one part": "abc",
    "four parts": "a.b.c.d",
    "not base64": "!!!.###.$$$",
    "json array payload": f"{b64(b'{}')}.{b64(b'[1]')}.{b64(b'x')}",
    "20 KB": "x" * 20 * 1024,
    "unicode": "ünïcødé.тест.😀",
    "nul bytes": "\x00.\x00.\x00",
    "deeply nested json": f"{b64(b'[' * 5000 + b']' * 5000)}.{b64(b'{}')}.{b64(b'x')}",
}


@pytest.mark.parametrize("token", GARBAGE.values(), ids=GARBAGE.keys())
@pytest.mark.parametrize("against", ["portal", "default target"])
def test_any_string_gives_a_report_and_never_raises(exported, token, against):
    target = default_target() if against == "default target" else None
    report = verify_token(token, target)
    assert not report.accepted
    assert [(each.name, each.ok) for each in report.checks] == [("format", False)]
    assert report.record is None
    assert report.notes == [NOT_MINTED_HERE]


def test_a_key_file_of_an_unknown_key_type_gives_a_report(exported, etc_dir):
    # A SubjectPublicKeyInfo whose algorithm OID (1.2.3.4) no library knows.
    der = bytes.fromhex("300d" + "3005" + "06032a0304" + "030400010203")
    (etc_dir / "ops.pem").write_bytes(
        b"-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(der) + b"\n-----END PUBLIC KEY-----\n"
    )
    token = hand_signed(rsa_key(2048, FOREIGN_KEY), iss="ops.pem")
    report = verify_token(token, default_target())
    assert not report.accepted
    assert failing(report).name == "signature"
    assert str(etc_dir / "ops.pem") in failing(report).reason


# The verify_token command ---------------------------------------------------------------------


def run(*args) -> str:
    out = StringIO()
    call_command("verify_token", *args, stdout=out)
    return out.getvalue()


def run_refused(*args) -> str:
    out = StringIO()
    with pytest.raises(CommandError, match=r"The token would be refused\."):
        call_command("verify_token", *args, stdout=out)
    return out.getvalue()


def test_the_command_prints_a_pass_line_per_check(minted):
    lines = run(minted.token).splitlines()
    assert lines[0] == "Checked against the portal's active keys:"
    assert [line.split(":")[0].strip() for line in lines[1:7]] == [
        f"PASS {name}" for name in ALL_CHECKS
    ]
    assert any(line.strip().startswith("Minted by the portal:") for line in lines)
    assert lines[-1] == "The token would be accepted."


def test_the_command_fails_with_a_fail_line_when_refused(exported):
    output = run_refused(hand_signed(rsa_key(2048, FOREIGN_KEY)))
    assert "  PASS key: iss 'plant-a.pem' selects" in output
    assert "  FAIL signature: the signature does not match the key in" in output
    assert NOT_MINTED_HERE in output
    assert output.splitlines()[-1] == "The token would be refused."


def test_the_command_prints_json(minted):
    output = json.loads(run(minted.token, "--json"))
    assert {"accepted", "checks", "jti", "notes", "where"} <= set(output)
    assert output["accepted"] is True
    assert output["jti"] == str(minted.record.jti)
    assert [each["name"] for each in output["checks"]] == ALL_CHECKS
    assert all(each["ok"] is True and each["reason"] for each in output["checks"])
    assert output["notes"][0].startswith("Minted by the portal:")


def test_the_command_prints_json_when_refused_too(minted, now):
    with clock.frozen_at(now + timedelta(days=1)):
        output = json.loads(run_refused(minted.token, "--json"))
    assert output["accepted"] is False
    assert output["jti"] == str(minted.record.jti)
    assert {"name": "exp", "ok": False, "reason": "expired 82800 s ago"} in output["checks"]


def test_the_command_prints_json_for_garbage(db):
    output = json.loads(run_refused("garbage", "--json"))
    assert output == {
        "accepted": False,
        "where": "the portal's active keys",
        "checks": [{"name": "format", "ok": False, "reason": "1 dot-separated parts, not 3"}],
        "jti": None,
        "notes": [NOT_MINTED_HERE],
    }


def test_the_command_reads_the_token_from_stdin(minted, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(minted.token + "\n"))
    output = json.loads(run("-", "--json"))
    assert output["accepted"] is True
    assert output["jti"] == str(minted.record.jti)


def test_the_command_checks_against_a_target(exported, etc_dir):
    output = run(exported.token, "--target", "default")
    assert output.startswith(f"Checked against target default ({etc_dir}):")
    assert output.splitlines()[-1] == "The token would be accepted."


def test_the_command_refuses_an_unknown_target(minted):
    with pytest.raises(CommandError, match="No export target is named 'nope'"):
        call_command("verify_token", minted.token, "--target", "nope", stdout=StringIO())
