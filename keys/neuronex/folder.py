"""Key folders as the verifiers see them (neuronex-compat.md rules 3, 4 and 5).

What a verifier would load, how it finds the key for an ``iss``, how the portal writes a file
without leaving anything a verifier could load half-written, and what in a folder breaks them.
"""

import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from keys.neuronex.names import NEURON_LOGIN_KEY
from keys.neuronex.profiles import (
    ISS_BARE,
    KEY_FILE_SUFFIX,
    PROFILE_EKUIPER,
    PROFILE_NEURON,
    PROFILE_NEURONEX,
)

# Neuron loads every file whose name merely contains one of these.
KEY_NAME_MARKERS = (".pem", ".pub")
NEURON_MAX_KEY_FILES = 8  # a ninth aborts the process
NEURON_KEY_BYTES = 1023  # longer keys are cut, and fail
KEY_FILE_MODE = 0o644
ERROR, WARNING = "error", "warning"


def is_key_like(name: str) -> bool:
    """Whether a verifier that loads by pattern (Neuron) would load this file."""
    return any(marker in name for marker in KEY_NAME_MARKERS)


def temporary_name() -> str:
    """A name to write under before the rename: hidden, and never one a verifier loads."""
    name = f".portal-write-{secrets.token_hex(8)}.tmp"
    assert not is_key_like(name)  # noqa: S101 (an invariant of the line above)
    return name


def write_atomically(folder: Path, name: str, content: bytes) -> None:
    """Write ``folder/name`` so that at every instant the name holds the old content or the
    new, never a part, and no other file a verifier would load exists: a temporary file
    (see temporary_name) is written, flushed and synced, renamed into place, and the folder
    synced so the rename survives a crash."""
    temporary = folder / temporary_name()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(temporary, flags, KEY_FILE_MODE)
    try:
        try:
            os.fchmod(fd, KEY_FILE_MODE)  # whatever the umask
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, folder / name)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    sync_folder(folder)


def remove(folder: Path, name: str) -> None:
    (folder / name).unlink(missing_ok=True)
    sync_folder(folder)


def sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def key_file_lookup(profile: str, iss: str, names: list[str]) -> str | None:
    """The file a verifier of ``profile`` reads for a token whose `iss` is ``iss``, among the
    folder entries ``names`` (in directory order), or None."""
    if profile == PROFILE_NEURON:
        # The first entry, in directory order, whose name starts with iss: an empty iss takes
        # the first file, and "ops" can take "ops-team.pem".
        return next((name for name in names if is_key_like(name) and name.startswith(iss)), None)
    if profile == PROFILE_EKUIPER:
        # The file named exactly iss, compared case-insensitively; no extension is added.
        return next((name for name in names if name.lower() == iss.lower()), None) if iss else None
    if profile == PROFILE_NEURONEX:
        # Current NeuronEX reads the file named iss; up to 3.4 it added ".pem" to a bare name.
        if iss in names:
            return iss
        if iss and not iss.endswith(KEY_FILE_SUFFIX) and iss + KEY_FILE_SUFFIX in names:
            return iss + KEY_FILE_SUFFIX
        return None
    raise ValueError(f"unknown profile {profile!r}")


def key_bytes_read(profile: str, content: bytes) -> bytes:
    """What the verifier actually uses of a key file's content."""
    return content[:NEURON_KEY_BYTES] if profile == PROFILE_NEURON else content


@dataclass(frozen=True)
class Finding:
    severity: str
    code: str
    message: str
    fix: str
    file: str = ""


@dataclass(frozen=True)
class Entry:
    """One folder entry as the checks need it."""

    name: str
    size: int
    mode: int
    is_symlink: bool
    is_file: bool
    readable: bool


def read_entries(folder: Path) -> list[Entry]:
    """The folder's entries in directory order (the order Neuron scans them in)."""
    entries = []
    with os.scandir(folder) as scan:
        for item in scan:
            info = item.stat(follow_symlinks=False)
            entries.append(
                Entry(
                    name=item.name,
                    size=info.st_size,
                    mode=info.st_mode,
                    is_symlink=item.is_symlink(),
                    is_file=item.is_file(follow_symlinks=False),
                    readable=os.access(item.path, os.R_OK),
                )
            )
    return entries


def iss_style_finding(profile: str, issuer_name: str, iss_style: str) -> Finding | None:
    """An issuer whose `iss` the profile cannot resolve to its key file."""
    if iss_style != ISS_BARE:
        return None
    file_name = issuer_name + KEY_FILE_SUFFIX
    if profile == PROFILE_EKUIPER:
        return Finding(
            ERROR,
            "iss_unresolvable",
            f"Issuer {issuer_name!r} uses a bare iss, but eKuiper looks for a file named "
            f"exactly {issuer_name!r} and this folder has {file_name}: its tokens are refused.",
            f"Set the issuer's iss style to 'file name' (iss = {file_name}).",
            file_name,
        )
    if profile == PROFILE_NEURONEX:
        return Finding(
            WARNING,
            "iss_bare",
            f"Issuer {issuer_name!r} uses a bare iss: only NeuronEX up to 3.4 adds '.pem' to "
            f"find {file_name}; current NeuronEX looks for a file named {issuer_name!r}.",
            "Unless this NeuronEX is 3.4 or older, set the iss style to 'file name'.",
            file_name,
        )
    return None


def folder_findings(profile: str, entries: list[Entry], owned: set[str]) -> list[Finding]:
    """What in this folder breaks or endangers a verifier of ``profile``, whoever wrote it.
    ``owned`` are the names the portal wrote (their content is checked elsewhere)."""
    findings: list[Finding] = []
    key_like = [entry for entry in entries if is_key_like(entry.name)]
    for entry in key_like:
        findings.extend(_entry_findings(profile, entry, owned))
    names = sorted(entry.name for entry in key_like)
    for index, name in enumerate(names):
        for other in names[index + 1 :]:
            if other.startswith(name):
                findings.append(
                    Finding(
                        ERROR,
                        "prefix_clash",
                        f"{name} is the start of {other}: Neuron takes the first file whose "
                        "name starts with the token's iss, so one can be checked against the "
                        "other's key.",
                        f"Remove or rename {other if name in owned else name}.",
                        other,
                    )
                )
    if profile == PROFILE_NEURON and len(key_like) > NEURON_MAX_KEY_FILES:
        findings.append(
            Finding(
                ERROR,
                "too_many_keys",
                f"{len(key_like)} files here have '.pem' or '.pub' in their name; Neuron loads "
                f"at most {NEURON_MAX_KEY_FILES} and aborts on the next.",
                "Remove the files Neuron does not need, or export fewer issuers to this target.",
            )
        )
    return findings


def _entry_findings(profile: str, entry: Entry, owned: set[str]) -> list[Finding]:
    findings = []
    name = entry.name
    if entry.is_symlink:
        findings.append(
            Finding(
                ERROR,
                "symlink",
                f"{name} is a symbolic link: whoever controls its target controls the key.",
                f"Replace {name} with a regular file, or remove it.",
                name,
            )
        )
        return findings
    if name not in owned:
        severity = ERROR if profile == PROFILE_NEURON else WARNING
        findings.append(
            Finding(
                severity,
                "foreign_key_file",
                f"{name} was not written by the portal, and its name contains '.pem' or "
                "'.pub': Neuron loads such files (backups and temporary copies too).",
                f"Remove {name} or move it out of the folder; import the key into the portal "
                "if it is needed.",
                name,
            )
        )
    if name.startswith("sample_key"):
        findings.append(
            Finding(
                ERROR,
                "sample_key",
                f"{name} is named like eKuiper's published sample key pair, whose private key "
                "anyone can download.",
                f"Remove {name}.",
                name,
            )
        )
    elif name.startswith(NEURON_LOGIN_KEY) and name not in owned:
        findings.append(
            Finding(
                WARNING,
                "neuron_name",
                f"{name} starts with 'neuron': on Neuron it overrides or shadows Neuron's own "
                "login key.",
                f"Unless {name} is Neuron's own login key, remove it.",
                name,
            )
        )
    if not entry.is_file or not entry.readable:
        findings.append(
            Finding(
                ERROR,
                "unreadable",
                f"{name} is not a readable file: Neuron aborts on an unreadable key file.",
                f"Fix the permissions of {name} or remove it.",
                name,
            )
        )
    elif entry.size == 0:
        findings.append(
            Finding(
                ERROR,
                "empty",
                f"{name} is empty: Neuron aborts on an empty key file.",
                f"Remove {name}.",
                name,
            )
        )
    elif entry.size > NEURON_KEY_BYTES:
        findings.append(
            Finding(
                ERROR if profile == PROFILE_NEURON else WARNING,
                "too_large",
                f"{name} has {entry.size} bytes; Neuron reads only the first "
                f"{NEURON_KEY_BYTES}, so the key fails.",
                "Use a key of at most 4096 bits in SubjectPublicKeyInfo PEM.",
                name,
            )
        )
    if entry.mode & stat.S_IWOTH:
        findings.append(
            Finding(
                ERROR,
                "world_writable",
                f"{name} is writable by every user: anyone on the host could replace the key.",
                f"chmod o-w {name}",
                name,
            )
        )
    return findings


def folder_mode_finding(folder: Path) -> Finding | None:
    if os.stat(folder).st_mode & stat.S_IWOTH:
        return Finding(
            ERROR,
            "world_writable",
            f"The folder {folder} is writable by every user: anyone on the host could add a key.",
            f"chmod o-w {folder}",
        )
    return None
