"""The export service on real folders: what it writes, what it refuses, what it never touches."""

import contextlib
import hashlib
import os
import shutil
import stat
import subprocess
from io import StringIO
from pathlib import Path

import jwt
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from keys.errors import InvalidInput
from keys.models import AuditEvent, ExportedFile, ExportTarget, KeyPair
from keys.neuronex.folder import ERROR, WARNING
from keys.neuronex.profiles import ISS_BARE, PROFILE_EKUIPER, PROFILE_NEURON
from keys.services import exports
from keys.services.actor import Actor
from keys.services.exports import export_target, export_targets, target_check
from keys.services.issuers import issuer_create, issuer_disable
from keys.services.keypairs import keypair_generate, keypair_retire, keypair_rotate
from keys.services.targets import target_create, target_set_issuers
from keys.services.tokens import token_mint

pytestmark = pytest.mark.django_db

PEM = "plant-a.pem"


# helpers


def default_target() -> ExportTarget:
    return ExportTarget.objects.get(name="default")


def public_bytes(key_pair: KeyPair) -> bytes:
    return key_pair.public_pem.encode("ascii")


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def listing(folder: Path) -> dict[str, tuple]:
    """Every entry with what identifies its state: content, mode, inode and mtime."""
    state = {}
    for name in sorted(os.listdir(folder)):
        path = folder / name
        info = os.lstat(path)
        if path.is_symlink():
            content = ("link", os.readlink(path))
        elif path.is_dir():
            content = ("dir",)
        else:
            content = path.read_bytes()
        state[name] = (content, info.st_mode, info.st_ino, info.st_mtime_ns)
    return state


def db_state() -> tuple:
    return (
        list(ExportedFile.objects.order_by("pk").values()),
        list(ExportTarget.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
    )


def codes(findings) -> set[tuple[str, str, str]]:
    return {(finding.code, finding.severity, finding.file) for finding in findings}


def code_set(findings) -> set[str]:
    return {finding.code for finding in findings}


def make_target(actor, tmp_path, name, **fields) -> ExportTarget:
    folder = tmp_path / name
    if fields.pop("make_folder", True):
        folder.mkdir()
    return target_create(actor=actor, name=name, path=str(folder), **fields)


def last_event(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).order_by("-seq").first()


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def run_failing(*args) -> tuple[str, str]:
    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command(*args, stdout=out)
    return out.getvalue(), str(raised.value)


def assert_failed_on_target(target: ExportTarget, text: str) -> None:
    target.refresh_from_db()
    assert target.last_export_ok is False
    assert target.last_export_at is not None
    assert text in target.last_export_result
    event = last_event("export.failed")
    assert event is not None
    assert (event.object_type, event.object_id) == ("exporttarget", target.name)
    assert text in event.details["failure"] + " ".join(event.details["problems"])


# export


def test_export_writes_the_active_public_key(key_pair, etc_dir, cli_actor):
    result = export_target(actor=cli_actor, target=default_target())
    assert result.ok, result.summary
    assert result.written == [PEM]
    assert os.listdir(etc_dir) == [PEM]
    assert (etc_dir / PEM).read_bytes() == public_bytes(key_pair)
    assert mode_of(etc_dir / PEM) == 0o644
    record = ExportedFile.objects.get(target=default_target(), file_name=PEM)
    assert record.sha256 == hashlib.sha256(public_bytes(key_pair)).hexdigest()
    assert record.kid == key_pair.kid
    assert record.issuer_id == key_pair.issuer_id
    target = default_target()
    assert target.last_export_ok is True
    assert "wrote plant-a.pem" in target.last_export_result
    assert last_event("export.run").details["written"] == [PEM]


def test_export_writes_world_readable_files_whatever_the_umask(key_pair, etc_dir, cli_actor):
    previous = os.umask(0o077)
    try:
        export_target(actor=cli_actor, target=default_target())
    finally:
        os.umask(previous)
    assert mode_of(etc_dir / PEM) == 0o644


def test_a_second_export_changes_nothing(key_pair, etc_dir, cli_actor):
    export_target(actor=cli_actor, target=default_target())
    before = listing(etc_dir)
    result = export_target(actor=cli_actor, target=default_target())
    assert result.ok
    assert (result.written, result.removed, result.unchanged) == ([], [], [PEM])
    assert "1 file(s) already current" in result.summary
    assert listing(etc_dir) == before
    assert ExportedFile.objects.count() == 1


def test_after_rotation_the_file_holds_the_new_key(issuer, key_pair, etc_dir, cli_actor):
    before = token_mint(actor=cli_actor, issuer=issuer, label="before").token
    export_target(actor=cli_actor, target=default_target())
    new = keypair_rotate(actor=cli_actor, issuer=issuer)
    after = token_mint(actor=cli_actor, issuer=issuer, label="after").token
    result = export_target(actor=cli_actor, target=default_target())
    assert result.written == [PEM]
    on_disk = (etc_dir / PEM).read_bytes()
    assert on_disk == public_bytes(new)
    assert ExportedFile.objects.get(file_name=PEM).kid == new.kid
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(before, on_disk, algorithms=["RS256"], audience=issuer.audience)
    claims = jwt.decode(after, on_disk, algorithms=["RS256"], audience=issuer.audience)
    assert claims["iss"] == PEM


def test_export_targets_skips_disabled_targets(key_pair, cli_actor, tmp_path):
    off = make_target(cli_actor, tmp_path, "off", enabled=False)
    manual = make_target(cli_actor, tmp_path, "manual", auto_export=False)
    results = export_targets(actor=cli_actor)
    assert sorted(result.target.name for result in results) == ["default", "manual"]
    assert os.listdir(off.folder) == []
    assert os.listdir(manual.folder) == [PEM]
    # An explicitly named target is exported even when disabled.
    assert export_targets(actor=cli_actor, target=off)[0].written == [PEM]


# auto-export after key changes, once committed


def test_generate_exports_after_commit(
    issuer, etc_dir, cli_actor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        key_pair = keypair_generate(actor=cli_actor, issuer=issuer)
    assert (etc_dir / PEM).read_bytes() == public_bytes(key_pair)
    assert default_target().last_export_ok is True


def test_nothing_is_exported_before_commit(
    issuer, etc_dir, cli_actor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        keypair_generate(actor=cli_actor, issuer=issuer)
    assert callbacks
    assert os.listdir(etc_dir) == []


def test_rotate_exports_after_commit(
    issuer, key_pair, etc_dir, cli_actor, django_capture_on_commit_callbacks
):
    export_target(actor=cli_actor, target=default_target())
    with django_capture_on_commit_callbacks(execute=True):
        new = keypair_rotate(actor=cli_actor, issuer=issuer)
    assert (etc_dir / PEM).read_bytes() == public_bytes(new)
    assert ExportedFile.objects.get(file_name=PEM).kid == new.kid


def test_retire_without_successor_removes_the_file(
    key_pair, etc_dir, cli_actor, django_capture_on_commit_callbacks
):
    export_target(actor=cli_actor, target=default_target())
    with django_capture_on_commit_callbacks(execute=True):
        keypair_retire(actor=cli_actor, key_pair=key_pair)
    assert os.listdir(etc_dir) == []
    assert not ExportedFile.objects.exists()
    assert last_event("export.run").details["removed"] == [PEM]


def test_disabling_the_issuer_removes_the_file(
    issuer, key_pair, etc_dir, cli_actor, django_capture_on_commit_callbacks
):
    export_target(actor=cli_actor, target=default_target())
    with django_capture_on_commit_callbacks(execute=True):
        issuer_disable(actor=cli_actor, issuer=issuer)
    assert os.listdir(etc_dir) == []
    assert not ExportedFile.objects.exists()


def test_auto_export_skips_disabled_and_manual_targets(
    issuer, etc_dir, cli_actor, tmp_path, django_capture_on_commit_callbacks
):
    off = make_target(cli_actor, tmp_path, "off", enabled=False)
    manual = make_target(cli_actor, tmp_path, "manual", auto_export=False)
    auto = make_target(cli_actor, tmp_path, "auto")
    with django_capture_on_commit_callbacks(execute=True):
        key_pair = keypair_generate(actor=cli_actor, issuer=issuer)
    assert (auto.folder / PEM).read_bytes() == public_bytes(key_pair)
    assert (etc_dir / PEM).read_bytes() == public_bytes(key_pair)
    for target in (off, manual):
        assert os.listdir(target.folder) == []
        target.refresh_from_db()
        assert target.last_export_at is None
    # Later changes leave them alone too.
    export_target(actor=cli_actor, target=manual)
    with django_capture_on_commit_callbacks(execute=True):
        keypair_rotate(actor=cli_actor, issuer=issuer)
    assert (manual.folder / PEM).read_bytes() == public_bytes(key_pair)


# foreign files


FOREIGN = {
    "neuronex.yaml": b"jwt:\n  enabled: true\n",
    "neuron.key": b"-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n",
    "other.pem": b"-----BEGIN PUBLIC KEY-----\nsomeone else's\n-----END PUBLIC KEY-----\n",
    "plant-a.pem.bak": b"-----BEGIN PUBLIC KEY-----\nold backup\n-----END PUBLIC KEY-----\n",
}


def test_exports_never_touch_foreign_files(
    issuer, key_pair, etc_dir, cli_actor, django_capture_on_commit_callbacks
):
    for name, content in FOREIGN.items():
        (etc_dir / name).write_bytes(content)
    before = {name: state for name, state in listing(etc_dir).items() if name in FOREIGN}
    export_target(actor=cli_actor, target=default_target())
    export_target(actor=cli_actor, target=default_target(), force=True)
    with django_capture_on_commit_callbacks(execute=True):
        keypair_rotate(actor=cli_actor, issuer=issuer)
    export_target(actor=cli_actor, target=default_target(), force=True)
    with django_capture_on_commit_callbacks(execute=True):
        issuer_disable(actor=cli_actor, issuer=issuer)
    export_target(actor=cli_actor, target=default_target(), force=True)
    after = listing(etc_dir)
    assert after == before  # plant-a.pem came and went; nothing else changed
    assert set(ExportedFile.objects.values_list("file_name", flat=True)) == set()


def test_a_foreign_file_at_the_name_is_left_alone_and_reported(key_pair, etc_dir, cli_actor):
    (etc_dir / PEM).write_bytes(FOREIGN["other.pem"])
    for force in (False, True):
        result = export_target(actor=cli_actor, target=default_target(), force=force)
        assert not result.ok
        assert result.written == []
        assert "plant-a.pem exists but was not written by the portal" in result.summary
        assert (etc_dir / PEM).read_bytes() == FOREIGN["other.pem"]
        assert not ExportedFile.objects.exists()
        assert_failed_on_target(default_target(), "plant-a.pem exists but was not written")


def test_a_foreign_file_with_the_same_content_is_adopted(key_pair, etc_dir, cli_actor):
    (etc_dir / PEM).write_bytes(public_bytes(key_pair))
    result = export_target(actor=cli_actor, target=default_target())
    assert result.ok
    assert result.unchanged == [PEM]
    record = ExportedFile.objects.get(file_name=PEM)
    assert record.kid == key_pair.kid
    assert record.sha256 == hashlib.sha256(public_bytes(key_pair)).hexdigest()
    assert target_check(default_target()) == []


def test_a_hand_edited_file_is_drift_until_forced(key_pair, etc_dir, cli_actor):
    export_target(actor=cli_actor, target=default_target())
    edited = public_bytes(key_pair).replace(b"\n", b"\r\n")
    (etc_dir / PEM).write_bytes(edited)
    result = export_target(actor=cli_actor, target=default_target())
    assert not result.ok
    assert "changed by hand" in result.summary
    assert (etc_dir / PEM).read_bytes() == edited
    assert_failed_on_target(default_target(), "changed by hand")
    result = export_target(actor=cli_actor, target=default_target(), force=True)
    assert result.ok and result.written == [PEM]
    assert (etc_dir / PEM).read_bytes() == public_bytes(key_pair)
    assert default_target().last_export_ok is True


def test_a_hand_edited_stale_file_is_removed_only_when_forced(issuer, key_pair, etc_dir, cli_actor):
    export_target(actor=cli_actor, target=default_target())
    (etc_dir / PEM).write_bytes(b"edited\n")
    issuer_disable(actor=cli_actor, issuer=issuer)  # no commit callbacks: no auto-export
    result = export_target(actor=cli_actor, target=default_target())
    assert not result.ok
    assert "no longer needed but was changed by hand" in result.summary
    assert (etc_dir / PEM).read_bytes() == b"edited\n"
    assert ExportedFile.objects.filter(file_name=PEM).exists()
    result = export_target(actor=cli_actor, target=default_target(), force=True)
    assert result.ok and result.removed == [PEM]
    assert os.listdir(etc_dir) == []
    assert not ExportedFile.objects.exists()


def test_an_owned_file_deleted_by_hand_is_written_again(key_pair, etc_dir, cli_actor):
    export_target(actor=cli_actor, target=default_target())
    (etc_dir / PEM).unlink()
    result = export_target(actor=cli_actor, target=default_target())
    assert result.ok and result.written == [PEM]
    assert (etc_dir / PEM).read_bytes() == public_bytes(key_pair)


# refusals


def assert_refused(target: ExportTarget, text: str) -> None:
    result = export_target(actor=Actor(user=None, channel="cli", name="cli:test"), target=target)
    assert not result.ok
    assert text in result.failure
    assert result.written == [] and result.removed == []
    assert f"Export to {target.name} failed: " in result.summary
    assert not ExportedFile.objects.filter(target=target).exists()
    assert_failed_on_target(target, text)


def test_target_create_refuses_a_relative_path(cli_actor):
    with pytest.raises(InvalidInput, match="not an absolute path") as raised:
        target_create(actor=cli_actor, name="rel", path="relative/keys")
    assert raised.value.field == "path"
    assert not ExportTarget.objects.filter(name="rel").exists()


def test_export_refuses_a_relative_path(key_pair, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "relative" / "keys").mkdir(parents=True)
    target = ExportTarget.objects.create(name="rel", path="relative/keys")
    assert_refused(target, "is not an absolute path")
    assert os.listdir(tmp_path / "relative" / "keys") == []


def test_export_refuses_a_folder_that_is_a_symlink(key_pair, tmp_path, cli_actor):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    target = target_create(actor=cli_actor, name="linked", path=str(tmp_path / "link"))
    assert_refused(target, "is a symbolic link")
    assert os.listdir(real) == []


def test_export_refuses_a_missing_folder(key_pair, tmp_path, cli_actor, settings):
    settings.DEBUG = True  # only the default target's folder is ever created
    target = target_create(actor=cli_actor, name="gone", path=str(tmp_path / "gone"))
    assert_refused(target, "does not exist")
    assert not (tmp_path / "gone").exists()


def test_the_default_folder_is_created_in_debug(key_pair, etc_dir, cli_actor, settings):
    shutil.rmtree(etc_dir)
    settings.DEBUG = True
    result = export_target(actor=cli_actor, target=default_target())
    assert result.ok
    assert (etc_dir / PEM).read_bytes() == public_bytes(key_pair)


def test_the_default_folder_is_not_created_in_production(key_pair, etc_dir, settings):
    shutil.rmtree(etc_dir)
    settings.DEBUG = False
    assert_refused(default_target(), "does not exist")
    assert not etc_dir.exists()


def test_export_refuses_a_path_that_is_a_file(key_pair, tmp_path, cli_actor):
    (tmp_path / "file").write_bytes(b"not a folder\n")
    target = target_create(actor=cli_actor, name="file", path=str(tmp_path / "file"))
    assert_refused(target, "is not a folder")
    assert (tmp_path / "file").read_bytes() == b"not a folder\n"


@contextlib.contextmanager
def read_only(folder: Path, monkeypatch):
    """Make ``folder`` read-only for root too: a read-only bind mount where the process may
    mount (root sees every ordinary folder as writable), else os.access patched to say no."""
    mounted = False
    try:
        subprocess.run(
            ["mount", "--bind", str(folder), str(folder)], check=True, capture_output=True
        )
        mounted = True
        subprocess.run(
            ["mount", "-o", "remount,bind,ro", str(folder)], check=True, capture_output=True
        )
        how = "bind mount"
    except (OSError, subprocess.CalledProcessError):
        if mounted:
            subprocess.run(["umount", str(folder)], check=False, capture_output=True)
            mounted = False
        real_access = os.access

        def access(path, mode, *args, **kwargs):
            if Path(path) == folder and mode & os.W_OK:
                return False
            return real_access(path, mode, *args, **kwargs)

        monkeypatch.setattr(exports.os, "access", access)
        how = "os.access patched"
    try:
        yield how
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=True, capture_output=True)
        else:
            monkeypatch.undo()


def test_export_refuses_a_folder_it_may_not_write(key_pair, tmp_path, cli_actor, monkeypatch):
    target = make_target(cli_actor, tmp_path, "locked")
    with read_only(target.folder, monkeypatch) as how:
        print(f"read-only folder made by {how}")
        assert_refused(target, "may not write to")
        assert os.listdir(target.folder) == []


def test_a_key_file_that_is_a_symlink_is_left_alone(key_pair, etc_dir, tmp_path, cli_actor):
    elsewhere = tmp_path / "elsewhere.pem"
    elsewhere.write_bytes(b"whoever owns this controls the key\n")
    (etc_dir / PEM).symlink_to(elsewhere)
    result = export_target(actor=cli_actor, target=default_target(), force=True)
    assert not result.ok
    assert "plant-a.pem is a symbolic link; it was left alone." in result.problems
    assert (etc_dir / PEM).is_symlink()
    assert elsewhere.read_bytes() == b"whoever owns this controls the key\n"
    assert_failed_on_target(default_target(), "symbolic link")


# a failed export never undoes the key change


def test_a_failed_export_keeps_the_rotation_and_mints_warn(
    issuer, key_pair, etc_dir, cli_actor, settings, django_capture_on_commit_callbacks
):
    shutil.rmtree(etc_dir)
    settings.DEBUG = False
    with django_capture_on_commit_callbacks(execute=True):
        new = keypair_rotate(actor=cli_actor, issuer=issuer)
    assert KeyPair.objects.get(status="active", issuer=issuer).kid == new.kid
    key_pair.refresh_from_db()
    assert key_pair.status == "retired"
    assert_failed_on_target(default_target(), "does not exist")
    minted = token_mint(actor=cli_actor, issuer=issuer, label="during the outage")
    assert minted.record.key_pair_id == new.pk
    assert minted.warnings
    assert any("'default'" in warning for warning in minted.warnings)

    etc_dir.mkdir()
    assert export_target(actor=cli_actor, target=default_target()).ok
    assert (etc_dir / PEM).read_bytes() == public_bytes(new)
    assert token_mint(actor=cli_actor, issuer=issuer, label="after").warnings == ()


# targets restricted to some issuers


def test_a_target_takes_only_its_listed_issuers(issuer, key_pair, etc_dir, cli_actor, tmp_path):
    other = issuer_create(actor=cli_actor, name="plant-b")
    other_key = keypair_generate(actor=cli_actor, issuer=other)
    only_b = make_target(cli_actor, tmp_path, "only-b")
    target_set_issuers(actor=cli_actor, target=only_b, issuers=[other])
    assert export_target(actor=cli_actor, target=only_b).written == ["plant-b.pem"]
    assert os.listdir(only_b.folder) == ["plant-b.pem"]
    assert (only_b.folder / "plant-b.pem").read_bytes() == public_bytes(other_key)
    assert target_check(only_b) == []
    assert export_target(actor=cli_actor, target=default_target()).written == [PEM, "plant-b.pem"]
    # Listing a different issuer later takes the other file away.
    target_set_issuers(actor=cli_actor, target=only_b, issuers=[issuer])
    result = export_target(actor=cli_actor, target=only_b)
    assert (result.written, result.removed) == ([PEM], ["plant-b.pem"])
    assert os.listdir(only_b.folder) == [PEM]


# target_check


def exported(cli_actor, target=None) -> ExportTarget:
    target = target or default_target()
    assert export_target(actor=cli_actor, target=target).ok
    return target


def test_a_clean_folder_gives_no_findings(key_pair, etc_dir, cli_actor):
    (etc_dir / "neuronex.yaml").write_bytes(FOREIGN["neuronex.yaml"])
    assert target_check(exported(cli_actor)) == []


def test_check_missing(key_pair):
    assert codes(target_check(default_target())) == {("missing", ERROR, PEM)}


def test_check_outdated(issuer, key_pair, cli_actor):
    target = exported(cli_actor)
    keypair_rotate(actor=cli_actor, issuer=issuer)  # not exported
    assert codes(target_check(target)) == {("outdated", ERROR, PEM)}


def test_check_drift(key_pair, etc_dir, cli_actor):
    target = exported(cli_actor)
    (etc_dir / PEM).write_bytes(public_bytes(key_pair) + b"\n")
    findings = target_check(target)
    assert codes(findings) == {("drift", ERROR, PEM)}
    assert "--force" in findings[0].fix


def test_check_foreign_at_name(key_pair, etc_dir):
    (etc_dir / PEM).write_bytes(FOREIGN["other.pem"])
    assert codes(target_check(default_target())) == {
        ("foreign_at_name", ERROR, PEM),
        ("foreign_key_file", WARNING, PEM),
    }


def test_check_stale(issuer, key_pair, cli_actor):
    target = exported(cli_actor)
    issuer_disable(actor=cli_actor, issuer=issuer)  # not exported
    assert codes(target_check(target)) == {("stale", ERROR, PEM)}


def test_check_foreign_key_file_by_profile(key_pair, etc_dir, cli_actor, tmp_path):
    neuron = make_target(cli_actor, tmp_path, "neuron-certs", profile=PROFILE_NEURON)
    for target in (default_target(), neuron):
        exported(cli_actor, target)
        (target.folder / "other.pem").write_bytes(FOREIGN["other.pem"])
    assert codes(target_check(default_target())) == {("foreign_key_file", WARNING, "other.pem")}
    assert codes(target_check(neuron)) == {("foreign_key_file", ERROR, "other.pem")}


@pytest.mark.parametrize("profile", ["neuronex", PROFILE_NEURON, PROFILE_EKUIPER])
def test_check_prefix_clash(profile, key_pair, cli_actor, tmp_path):
    target = default_target()
    if profile != "neuronex":
        target = make_target(cli_actor, tmp_path, "t", profile=profile)
    exported(cli_actor, target)
    (target.folder / "plant-a.pem.bak").write_bytes(public_bytes(key_pair))
    findings = target_check(target)
    assert ("prefix_clash", ERROR, "plant-a.pem.bak") in codes(findings)
    clash = next(finding for finding in findings if finding.code == "prefix_clash")
    assert "plant-a.pem.bak" in clash.fix


def test_check_too_many_keys_on_neuron(key_pair, cli_actor, tmp_path):
    target = make_target(cli_actor, tmp_path, "neuron-certs", profile=PROFILE_NEURON)
    exported(cli_actor, target)  # plant-a.pem is the first
    for letter in "bcdefgh":
        (target.folder / f"{letter}.pem").write_bytes(FOREIGN["other.pem"])
    assert len(os.listdir(target.folder)) == 8
    assert "too_many_keys" not in code_set(target_check(target))
    (target.folder / "i.pub").write_bytes(FOREIGN["other.pem"])
    assert ("too_many_keys", ERROR, "") in codes(target_check(target))
    # The same nine files are no problem for NeuronEX's exact-name lookup.
    for name in os.listdir(target.folder):
        if name != PEM:
            shutil.copy(target.folder / name, default_target().folder / name)
    exported(cli_actor)
    assert "too_many_keys" not in code_set(target_check(default_target()))


def test_check_sample_key(etc_dir):
    (etc_dir / "sample_key.pub").write_bytes(FOREIGN["other.pem"])
    assert ("sample_key", ERROR, "sample_key.pub") in codes(target_check(default_target()))


def test_check_neuron_name(etc_dir):
    (etc_dir / "neuron.pem").write_bytes(FOREIGN["other.pem"])
    assert ("neuron_name", WARNING, "neuron.pem") in codes(target_check(default_target()))


def test_check_empty(etc_dir):
    (etc_dir / "x.pem").write_bytes(b"")
    assert ("empty", ERROR, "x.pem") in codes(target_check(default_target()))


def test_check_too_large_by_profile(cli_actor, tmp_path):
    neuron = make_target(cli_actor, tmp_path, "neuron-certs", profile=PROFILE_NEURON)
    for target in (default_target(), neuron):
        (target.folder / "x.pem").write_bytes(b"k" * 1024)
        (target.folder / "y.pem").write_bytes(b"k" * 1023)
    assert ("too_large", WARNING, "x.pem") in codes(target_check(default_target()))
    assert ("too_large", ERROR, "x.pem") in codes(target_check(neuron))
    for target in (default_target(), neuron):
        assert not any(
            finding.code == "too_large" and finding.file == "y.pem"
            for finding in target_check(target)
        )


def test_check_unreadable(etc_dir):
    (etc_dir / "x.pem").mkdir()
    assert ("unreadable", ERROR, "x.pem") in codes(target_check(default_target()))


def test_check_a_folder_at_the_key_files_name_is_reported_not_raised(key_pair, etc_dir):
    (etc_dir / PEM).mkdir()
    assert ("unreadable", ERROR, PEM) in codes(target_check(default_target()))


def test_check_world_writable_folder_and_file(key_pair, etc_dir, cli_actor):
    exported(cli_actor)
    os.chmod(etc_dir, 0o777)  # noqa: S103 (the point of the test)
    os.chmod(etc_dir / PEM, 0o666)  # noqa: S103 (the point of the test)
    assert codes(target_check(default_target())) == {
        ("world_writable", ERROR, ""),
        ("world_writable", ERROR, PEM),
    }


def test_check_symlink(key_pair, etc_dir, tmp_path):
    elsewhere = tmp_path / "elsewhere.pem"
    elsewhere.write_bytes(public_bytes(key_pair))
    (etc_dir / PEM).symlink_to(elsewhere)
    assert codes(target_check(default_target())) == {("symlink", ERROR, PEM)}


def test_check_bare_iss_by_profile(cli_actor, tmp_path):
    bare = issuer_create(actor=cli_actor, name="plant-b", iss_style=ISS_BARE)
    keypair_generate(actor=cli_actor, issuer=bare)
    ekuiper = make_target(cli_actor, tmp_path, "mgmt", profile=PROFILE_EKUIPER)
    neuron = make_target(cli_actor, tmp_path, "neuron-certs", profile=PROFILE_NEURON)
    for target in (default_target(), ekuiper, neuron):
        exported(cli_actor, target)
    assert codes(target_check(ekuiper)) == {("iss_unresolvable", ERROR, "plant-b.pem")}
    assert codes(target_check(default_target())) == {("iss_bare", WARNING, "plant-b.pem")}
    assert target_check(neuron) == []


def test_check_refuses_a_missing_folder(cli_actor, tmp_path):
    target = make_target(cli_actor, tmp_path, "gone", make_folder=False)
    findings = target_check(target)
    assert codes(findings) == {("folder", ERROR, "")}
    assert "does not exist" in findings[0].message


def test_check_lists_errors_first(key_pair, etc_dir):
    (etc_dir / "other.pem").write_bytes(FOREIGN["other.pem"])  # warning
    severities = [finding.severity for finding in target_check(default_target())]
    assert severities == sorted(severities, key=lambda severity: severity != ERROR)
    assert severities[0] == ERROR and severities[-1] == WARNING


def test_check_changes_nothing(issuer, key_pair, etc_dir, cli_actor, tmp_path):
    other = issuer_create(actor=cli_actor, name="plant-b")
    keypair_generate(actor=cli_actor, issuer=other)
    exported(cli_actor)
    keypair_rotate(actor=cli_actor, issuer=issuer)  # plant-a.pem outdated
    (etc_dir / "plant-b.pem").write_bytes(b"edited\n")  # drift
    (etc_dir / "plant-a.pem.bak").write_bytes(b"")
    (etc_dir / "neuronex.yaml").write_bytes(FOREIGN["neuronex.yaml"])
    (etc_dir / "x.pem").mkdir()
    os.chmod(etc_dir, 0o777)  # noqa: S103 (the point of the test)
    folder_before, rows_before = listing(etc_dir), db_state()
    findings = target_check(default_target())
    assert {"outdated", "drift", "prefix_clash", "empty", "unreadable", "world_writable"} <= (
        code_set(findings)
    )
    assert listing(etc_dir) == folder_before
    assert db_state() == rows_before


def test_check_does_not_create_the_default_folder(etc_dir, settings):
    shutil.rmtree(etc_dir)
    settings.DEBUG = True
    rows_before = db_state()
    assert code_set(target_check(default_target())) == {"folder"}
    assert not etc_dir.exists()
    assert db_state() == rows_before


# the export_keys command


def test_export_keys_prints_a_summary_per_target(key_pair, etc_dir, cli_actor, tmp_path):
    make_target(cli_actor, tmp_path, "second")
    output = run("export_keys")
    assert f"Export to default ({etc_dir}): wrote plant-a.pem; 0 file(s) already current." in (
        output
    )
    assert "Export to second (" in output
    assert "1 file(s) already current" in run("export_keys", "--target", "second")


def test_export_keys_fails_when_a_target_fails(key_pair, etc_dir, settings):
    shutil.rmtree(etc_dir)
    settings.DEBUG = False
    output, error = run_failing("export_keys")
    assert "Export to default failed: " in output
    assert "Export incomplete for: default." in error


def test_export_keys_check_fails_on_errors_and_says_how_to_fix(key_pair, etc_dir):
    output, error = run_failing("export_keys", "--check")
    assert "ERROR: plant-a.pem is missing" in output
    assert "    fix: Run export_keys." in output
    assert "1 error(s) found." in error
    assert os.listdir(etc_dir) == []


def test_export_keys_check_passes_with_warnings_only(key_pair, etc_dir, cli_actor):
    exported(cli_actor)
    (etc_dir / "other.pem").write_bytes(FOREIGN["other.pem"])
    output = run("export_keys", "--check")
    assert "WARNING: other.pem was not written by the portal" in output
    assert "fix:" in output


def test_export_keys_check_clean(key_pair, cli_actor):
    exported(cli_actor)
    assert "in sync, nothing to report" in run("export_keys", "--check")


def test_export_keys_unknown_target():
    with pytest.raises(CommandError, match="No export target is named 'nope'"):
        call_command("export_keys", "--target", "nope", stdout=StringIO())
    with pytest.raises(CommandError, match="No export target is named 'nope'"):
        call_command("export_keys", "--check", "--target", "nope", stdout=StringIO())


def test_export_keys_check_refuses_force(key_pair, etc_dir):
    with pytest.raises(CommandError, match="cannot be combined with --force"):
        call_command("export_keys", "--check", "--force", stdout=StringIO())
    assert os.listdir(etc_dir) == []


@pytest.mark.parametrize("copy", ["empty", "copied"])
def test_done_when_a_backup_copy_makes_the_check_fail(copy, key_pair, etc_dir):
    run("export_keys")
    assert "in sync, nothing to report" in run("export_keys", "--check")
    content = b"" if copy == "empty" else (etc_dir / PEM).read_bytes()
    (etc_dir / "plant-a.pem.bak").write_bytes(content)
    output, error = run_failing("export_keys", "--check")
    assert "plant-a.pem.bak" in output
    assert "error(s) found" in error
    assert (etc_dir / "plant-a.pem.bak").read_bytes() == content
    # An export does not fix it: the backup is not the portal's to remove.
    run("export_keys")
    assert (etc_dir / "plant-a.pem.bak").read_bytes() == content
    assert "plant-a.pem.bak" in run_failing("export_keys", "--check")[0]
