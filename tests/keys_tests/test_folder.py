"""The pure folder rules of keys.neuronex.folder (neuronex-compat.md rules 3, 4 and 5)."""

import errno
import os
import stat
from pathlib import Path

import pytest

from keys.neuronex import folder as key_folder
from keys.neuronex.folder import (
    ERROR,
    WARNING,
    Entry,
    folder_findings,
    folder_mode_finding,
    is_key_like,
    iss_style_finding,
    key_bytes_read,
    key_file_lookup,
    temporary_name,
    write_atomically,
)
from keys.neuronex.profiles import (
    ISS_BARE,
    ISS_FILENAME,
    PROFILE_EKUIPER,
    PROFILE_NEURON,
    PROFILE_NEURONEX,
)

OLD = b"-----BEGIN PUBLIC KEY-----\nold\n-----END PUBLIC KEY-----\n"
NEW = b"-----BEGIN PUBLIC KEY-----\nnew\n-----END PUBLIC KEY-----\n"


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# is_key_like and temporary_name


@pytest.mark.parametrize(
    ("name", "key_like"),
    [
        ("a.pem", True),
        ("a.pem.bak", True),  # Neuron loads names that merely contain ".pem"
        (".a.pem.tmp", True),
        ("a.pub", True),
        ("a.pub.old", True),
        ("neuron.key", False),
        ("neuronex.yaml", False),
        ("a.crt", False),
        ("pem", False),
    ],
)
def test_is_key_like(name, key_like):
    assert is_key_like(name) is key_like


def test_temporary_names_are_never_key_like_and_differ():
    names = {temporary_name() for _ in range(200)}
    assert len(names) == 200
    for name in names:
        assert not is_key_like(name)
        assert name.startswith(".")
        assert "/" not in name


# key_file_lookup


def test_neuron_takes_the_first_key_file_whose_name_starts_with_iss():
    names = ["ops-team.pem", "ops.pem"]
    assert key_file_lookup(PROFILE_NEURON, "ops", names) == "ops-team.pem"
    assert key_file_lookup(PROFILE_NEURON, "ops", list(reversed(names))) == "ops.pem"


def test_neuron_full_file_name_iss_finds_only_that_file_and_its_extensions():
    names = ["ops-team.pem", "ops.pem"]
    assert key_file_lookup(PROFILE_NEURON, "ops.pem", names) == "ops.pem"
    assert key_file_lookup(PROFILE_NEURON, "ops.pem", ["ops.pem.bak", "ops.pem"]) == "ops.pem.bak"


def test_neuron_empty_iss_takes_the_first_key_file():
    names = ["neuronex.yaml", "zeta.pem", "alpha.pem"]
    assert key_file_lookup(PROFILE_NEURON, "", names) == "zeta.pem"


def test_neuron_ignores_names_that_are_not_key_like():
    assert key_file_lookup(PROFILE_NEURON, "ops", ["ops.txt", "ops-notes", "ops.pub"]) == "ops.pub"
    assert key_file_lookup(PROFILE_NEURON, "ops", ["ops.txt", "ops.key"]) is None
    assert key_file_lookup(PROFILE_NEURON, "", ["neuronex.yaml", "neuron.key"]) is None


def test_neuron_prefix_lets_neu_pick_neurons_own_key():
    assert key_file_lookup(PROFILE_NEURON, "neu", ["neuron.pem", "neu-x.pem"]) == "neuron.pem"


def test_ekuiper_takes_the_exact_name_case_insensitively():
    names = ["ops-team.pem", "OPS.PEM"]
    assert key_file_lookup(PROFILE_EKUIPER, "ops.pem", names) == "OPS.PEM"
    assert key_file_lookup(PROFILE_EKUIPER, "Ops.Pem", ["ops.pem"]) == "ops.pem"


def test_ekuiper_adds_no_extension():
    assert key_file_lookup(PROFILE_EKUIPER, "ops", ["ops.pem"]) is None
    assert key_file_lookup(PROFILE_EKUIPER, "ops", ["ops-team.pem", "ops.pem"]) is None


def test_ekuiper_empty_iss_finds_nothing():
    assert key_file_lookup(PROFILE_EKUIPER, "", ["ops.pem"]) is None


def test_neuronex_takes_the_exact_iss():
    names = ["ops-team.pem", "ops.pem"]
    assert key_file_lookup(PROFILE_NEURONEX, "ops.pem", names) == "ops.pem"
    assert key_file_lookup(PROFILE_NEURONEX, "ops-team.pem", names) == "ops-team.pem"
    assert key_file_lookup(PROFILE_NEURONEX, "other.pem", names) is None


def test_neuronex_adds_pem_to_a_bare_iss():
    assert key_file_lookup(PROFILE_NEURONEX, "ops", ["ops-team.pem", "ops.pem"]) == "ops.pem"
    assert key_file_lookup(PROFILE_NEURONEX, "ops", ["ops-team.pem"]) is None
    # A file named exactly like the bare iss is taken first.
    assert key_file_lookup(PROFILE_NEURONEX, "ops", ["ops.pem", "ops"]) == "ops"


def test_neuronex_adds_nothing_to_an_iss_that_ends_in_pem():
    assert key_file_lookup(PROFILE_NEURONEX, "ops.pem", ["ops.pem.pem"]) is None


def test_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="unknown profile"):
        key_file_lookup("nginx", "ops.pem", ["ops.pem"])


# key_bytes_read


def test_neuron_reads_only_the_first_1023_bytes():
    content = bytes(range(256)) * 8  # 2048 bytes
    assert key_bytes_read(PROFILE_NEURON, content) == content[:1023]
    assert key_bytes_read(PROFILE_NEURON, content[:1023]) == content[:1023]
    assert key_bytes_read(PROFILE_NEURON, content[:451]) == content[:451]


@pytest.mark.parametrize("profile", [PROFILE_NEURONEX, PROFILE_EKUIPER])
def test_other_profiles_read_the_whole_file(profile):
    content = b"x" * 1491
    assert key_bytes_read(profile, content) == content


# write_atomically


@pytest.fixture
def keys_dir(tmp_path):
    """A folder of its own (tmp_path also holds the autouse etc_dir)."""
    folder = tmp_path / "keys"
    folder.mkdir()
    return folder


@pytest.fixture
def umask_077():
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def test_write_atomically_writes_the_exact_content_world_readable(keys_dir, umask_077):
    write_atomically(keys_dir, "ops.pem", NEW)
    assert (keys_dir / "ops.pem").read_bytes() == NEW
    assert mode_of(keys_dir / "ops.pem") == 0o644
    assert os.listdir(keys_dir) == ["ops.pem"]


def test_write_atomically_replaces_an_existing_file(keys_dir, umask_077):
    (keys_dir / "ops.pem").write_bytes(OLD + b"longer than the new content" * 10)
    os.chmod(keys_dir / "ops.pem", 0o600)
    write_atomically(keys_dir, "ops.pem", NEW)
    assert (keys_dir / "ops.pem").read_bytes() == NEW
    assert mode_of(keys_dir / "ops.pem") == 0o644
    assert os.listdir(keys_dir) == ["ops.pem"]


def test_write_atomically_writes_large_and_empty_content(keys_dir):
    big = os.urandom(256 * 1024)
    write_atomically(keys_dir, "big.pem", big)
    assert (keys_dir / "big.pem").read_bytes() == big
    write_atomically(keys_dir, "big.pem", b"")
    assert (keys_dir / "big.pem").read_bytes() == b""
    assert os.listdir(keys_dir) == ["big.pem"]


def test_write_atomically_leaves_other_files_alone(keys_dir):
    (keys_dir / "neuronex.yaml").write_bytes(b"a: 1\n")
    (keys_dir / "other.pem").write_bytes(OLD)
    write_atomically(keys_dir, "ops.pem", NEW)
    assert sorted(os.listdir(keys_dir)) == ["neuronex.yaml", "ops.pem", "other.pem"]
    assert (keys_dir / "neuronex.yaml").read_bytes() == b"a: 1\n"
    assert (keys_dir / "other.pem").read_bytes() == OLD


def test_a_failed_rename_keeps_the_old_file_and_leaves_nothing_behind(keys_dir, monkeypatch):
    (keys_dir / "ops.pem").write_bytes(OLD)
    (keys_dir / "neuronex.yaml").write_bytes(b"a: 1\n")
    before = sorted(os.listdir(keys_dir))
    renamed = []

    def replace(source, destination):
        # The temporary file is complete at this point: written, synced and closed.
        assert not is_key_like(os.path.basename(source))
        assert Path(source).read_bytes() == NEW
        renamed.append(source)
        raise OSError(errno.EIO, "injected rename failure")

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="injected rename failure"):
        write_atomically(keys_dir, "ops.pem", NEW)
    monkeypatch.undo()
    assert renamed
    assert (keys_dir / "ops.pem").read_bytes() == OLD
    assert sorted(os.listdir(keys_dir)) == before


def test_a_failed_write_leaves_the_old_file_and_nothing_behind(keys_dir, monkeypatch):
    (keys_dir / "ops.pem").write_bytes(OLD)
    before = sorted(os.listdir(keys_dir))
    real_write = os.write
    calls = []

    def write(fd, data):
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, bytes(data[:10]))  # a short write, then the disk is full
        raise OSError(errno.ENOSPC, "injected: no space left")

    monkeypatch.setattr(os, "write", write)
    with pytest.raises(OSError, match="no space left"):
        write_atomically(keys_dir, "ops.pem", NEW * 4)
    monkeypatch.undo()
    assert len(calls) == 2
    assert (keys_dir / "ops.pem").read_bytes() == OLD
    assert sorted(os.listdir(keys_dir)) == before


def test_a_failed_fsync_leaves_the_old_file_and_nothing_behind(keys_dir, monkeypatch):
    (keys_dir / "ops.pem").write_bytes(OLD)
    before = sorted(os.listdir(keys_dir))

    def fsync(fd):
        raise OSError(errno.EIO, "injected fsync failure")

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OSError, match="injected fsync failure"):
        write_atomically(keys_dir, "ops.pem", NEW)
    monkeypatch.undo()
    assert (keys_dir / "ops.pem").read_bytes() == OLD
    assert sorted(os.listdir(keys_dir)) == before


def test_a_failed_first_write_of_a_new_file_leaves_the_folder_empty(keys_dir, monkeypatch):
    def write(fd, data):
        raise OSError(errno.EIO, "injected write failure")

    monkeypatch.setattr(os, "write", write)
    with pytest.raises(OSError, match="injected write failure"):
        write_atomically(keys_dir, "ops.pem", NEW)
    monkeypatch.undo()
    assert os.listdir(keys_dir) == []


def test_remove_deletes_one_file_and_tolerates_a_missing_one(keys_dir):
    (keys_dir / "ops.pem").write_bytes(OLD)
    (keys_dir / "other.pem").write_bytes(OLD)
    key_folder.remove(keys_dir, "ops.pem")
    key_folder.remove(keys_dir, "ops.pem")
    assert os.listdir(keys_dir) == ["other.pem"]


# iss_style_finding and folder_mode_finding


def test_a_bare_iss_cannot_be_resolved_by_ekuiper():
    finding = iss_style_finding(PROFILE_EKUIPER, "ops", ISS_BARE)
    assert (finding.severity, finding.code, finding.file) == (ERROR, "iss_unresolvable", "ops.pem")
    assert "file name" in finding.fix


def test_a_bare_iss_is_a_warning_on_neuronex():
    finding = iss_style_finding(PROFILE_NEURONEX, "ops", ISS_BARE)
    assert (finding.severity, finding.code, finding.file) == (WARNING, "iss_bare", "ops.pem")


def test_a_bare_iss_is_fine_on_neuron_and_a_file_name_iss_everywhere():
    assert iss_style_finding(PROFILE_NEURON, "ops", ISS_BARE) is None
    for profile in (PROFILE_NEURON, PROFILE_NEURONEX, PROFILE_EKUIPER):
        assert iss_style_finding(profile, "ops", ISS_FILENAME) is None


def test_a_world_writable_folder_is_an_error(keys_dir):
    os.chmod(keys_dir, 0o755)  # noqa: S103 (the point of the test)
    assert folder_mode_finding(keys_dir) is None
    os.chmod(keys_dir, 0o777)  # noqa: S103 (the point of the test)
    try:
        finding = folder_mode_finding(keys_dir)
    finally:
        os.chmod(keys_dir, 0o755)  # noqa: S103 (the point of the test)
    assert (finding.severity, finding.code) == (ERROR, "world_writable")
    assert finding.fix == f"chmod o-w {keys_dir}"


# folder_findings on made-up entries


def entry(name, size=451, mode=0o100644, is_symlink=False, is_file=True, readable=True):
    return Entry(name, size, mode, is_symlink, is_file, readable)


def codes(findings) -> set[tuple[str, str, str]]:
    return {(finding.code, finding.severity, finding.file) for finding in findings}


def test_owned_prefix_free_key_files_give_no_findings():
    entries = [entry("a.pem"), entry("b.pem"), entry("neuronex.yaml", size=0)]
    for profile in (PROFILE_NEURON, PROFILE_NEURONEX, PROFILE_EKUIPER):
        assert folder_findings(profile, entries, {"a.pem", "b.pem"}) == []


def test_foreign_key_files_warn_on_neuronex_and_fail_on_neuron():
    entries = [entry("other.pem")]
    assert codes(folder_findings(PROFILE_NEURONEX, entries, set())) == {
        ("foreign_key_file", WARNING, "other.pem")
    }
    assert codes(folder_findings(PROFILE_NEURON, entries, set())) == {
        ("foreign_key_file", ERROR, "other.pem")
    }


def test_a_backup_next_to_its_key_is_a_prefix_clash():
    findings = folder_findings(PROFILE_NEURONEX, [entry("a.pem"), entry("a.pem.bak")], {"a.pem"})
    assert ("prefix_clash", ERROR, "a.pem.bak") in codes(findings)
    clash = next(finding for finding in findings if finding.code == "prefix_clash")
    assert clash.fix == "Remove or rename a.pem.bak."


def test_nine_key_files_are_too_many_for_neuron_only():
    eight = [entry(f"{letter}.pem") for letter in "abcdefgh"]
    nine = [*eight, entry("i.pub")]
    owned = {each.name for each in nine}
    assert folder_findings(PROFILE_NEURON, eight, owned) == []
    assert codes(folder_findings(PROFILE_NEURON, nine, owned)) == {("too_many_keys", ERROR, "")}
    assert folder_findings(PROFILE_NEURONEX, nine, owned) == []


def test_entry_rules():
    cases = {
        "sample_key.pub": (entry("sample_key.pub"), ("sample_key", ERROR)),
        "empty.pem": (entry("empty.pem", size=0), ("empty", ERROR)),
        "dir.pem": (entry("dir.pem", is_file=False, mode=0o040755), ("unreadable", ERROR)),
        "locked.pem": (entry("locked.pem", readable=False), ("unreadable", ERROR)),
        "big.pem": (entry("big.pem", size=1024), ("too_large", WARNING)),
        "open.pem": (entry("open.pem", mode=0o100646), ("world_writable", ERROR)),
        "link.pem": (entry("link.pem", is_symlink=True, is_file=False), ("symlink", ERROR)),
    }
    for name, (each, (code, severity)) in cases.items():
        found = codes(folder_findings(PROFILE_NEURONEX, [each], {name}))
        assert (code, severity, name) in found, name
    assert folder_findings(PROFILE_NEURON, [entry("ok.pem", size=1023)], {"ok.pem"}) == []
    assert codes(folder_findings(PROFILE_NEURON, [entry("big.pem", size=1024)], {"big.pem"})) == {
        ("too_large", ERROR, "big.pem")
    }


def test_a_foreign_file_named_like_neurons_login_key_is_flagged():
    found = codes(folder_findings(PROFILE_NEURONEX, [entry("neuron.pem")], set()))
    assert found == {
        ("foreign_key_file", WARNING, "neuron.pem"),
        ("neuron_name", WARNING, "neuron.pem"),
    }
