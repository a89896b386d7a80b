"""Putting public keys where the verifiers read them, and nothing else."""

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction

from keys import clock
from keys.errors import InvalidInput
from keys.models import ExportedFile, ExportTarget, Issuer, KeyPair
from keys.neuronex import folder as key_folder
from keys.services.actor import Actor
from keys.services.audit import audit_record
from keys.services.locks import serialize


@dataclass
class ExportResult:
    target: ExportTarget
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    failure: str = ""

    @property
    def ok(self) -> bool:
        return not self.failure and not self.problems

    @property
    def summary(self) -> str:
        if self.failure:
            return f"Export to {self.target.name} failed: {self.failure}"
        parts = [
            f"{label} {', '.join(names)}"
            for label, names in (("wrote", self.written), ("removed", self.removed))
            if names
        ]
        parts.append(f"{len(self.unchanged)} file(s) already current")
        text = f"Export to {self.target.name} ({self.target.folder}): " + "; ".join(parts) + "."
        if self.problems:
            text += " Not done: " + " ".join(self.problems)
        return text


@dataclass(frozen=True)
class ExpectedFile:
    issuer: Issuer
    kid: str
    content: bytes

    @property
    def sha256(self) -> str:
        return sha256(self.content)


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def target_issuers(target: ExportTarget):
    """The issuers a target takes: the ones it lists, or every issuer when it lists none."""
    listed = target.issuers.all()
    return listed if listed.exists() else Issuer.objects.all()


def expected_files(target: ExportTarget) -> dict[str, ExpectedFile]:
    """The key files the target's folder should hold: one per active issuer it takes that has
    an active key, holding exactly that key's public PEM."""
    active = KeyPair.objects.filter(
        status=KeyPair.Status.ACTIVE,
        issuer__in=target_issuers(target).filter(is_active=True),
    ).select_related("issuer")
    return {
        key_pair.issuer.key_file_name: ExpectedFile(
            key_pair.issuer, key_pair.kid, key_pair.public_pem.encode("ascii")
        )
        for key_pair in active.defer("private_key_encrypted")
    }


def target_folder(target: ExportTarget, *, create: bool = True) -> Path:
    """The target's folder, checked: absolute, a real folder (no symbolic link), writable.
    The default development folder is made when missing; any other missing folder is refused,
    since creating it would hide a wrong path."""
    folder = target.folder
    if not folder.is_absolute():
        raise InvalidInput(f"{folder} is not an absolute path.", field="path")
    if create and not os.path.lexists(folder) and target.is_default and settings.DEBUG:
        folder.mkdir(parents=True, exist_ok=True)
    if folder.is_symlink():
        raise InvalidInput(
            f"{folder} is a symbolic link; name the real folder, so that nobody can redirect "
            "the keys by changing the link.",
            field="path",
        )
    if not folder.exists():
        raise InvalidInput(f"The folder {folder} does not exist.", field="path")
    if not folder.is_dir():
        raise InvalidInput(f"{folder} is not a folder.", field="path")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidInput(f"The portal may not write to {folder}.", field="path")
    return folder


def export_target(*, actor: Actor, target: ExportTarget, force: bool = False) -> ExportResult:
    """Bring the target's folder in line with the active keys, touching only files the portal
    wrote. A hand-edited file of the portal's is left alone (and reported) unless ``force``.
    The outcome is recorded on the target and in the audit log, and returned; this never
    raises for a folder problem."""
    result = ExportResult(target)
    with transaction.atomic():
        serialize(f"keys.export.{target.pk}")
        try:
            folder = target_folder(target)
            _sync(folder, target, result, force)
        except InvalidInput as exc:
            result.failure = exc.message
        except OSError as exc:
            result.failure = f"{exc.strerror or exc} ({exc.filename or target.folder})"
        _record(actor, target, result)
    return result


def export_targets(
    *, actor: Actor, target: ExportTarget | None = None, force: bool = False, auto: bool = False
) -> list[ExportResult]:
    """Export to one target, or to every enabled one (with ``auto``: those with auto_export)."""
    if target is not None:
        return [export_target(actor=actor, target=target, force=force)]
    targets = ExportTarget.objects.filter(enabled=True)
    if auto:
        targets = targets.filter(auto_export=True)
    return [export_target(actor=actor, target=each, force=force) for each in targets]


def schedule_auto_export(actor: Actor) -> None:
    """Export to the auto-export targets once the current transaction has committed, so that a
    failed export never rolls back the key change that called for it."""
    transaction.on_commit(lambda: export_targets(actor=actor, auto=True))


def _sync(folder: Path, target: ExportTarget, result: ExportResult, force: bool) -> None:
    expected = expected_files(target)
    owned = {record.file_name: record for record in target.files.all()}
    for name, wanted in sorted(expected.items()):
        _put(folder, target, name, wanted, owned.get(name), result, force)
    for name, record in sorted(owned.items()):
        if name not in expected:
            _take_away(folder, name, record, result, force)


def _put(folder, target, name, wanted: ExpectedFile, record, result, force) -> None:
    path = folder / name
    if path.is_symlink():
        result.problems.append(f"{name} is a symbolic link; it was left alone.")
        return
    current = _read(path)
    if current == wanted.content:
        result.unchanged.append(name)
        if record is not None and record.sha256 == wanted.sha256:
            return  # nothing written: keep written_at
    elif current is not None and record is None:
        result.problems.append(
            f"{name} exists but was not written by the portal; it was left alone. Remove it "
            "so that the portal can write the issuer's key."
        )
        return
    elif current is not None and sha256(current) != record.sha256 and not force:
        result.problems.append(
            f"{name} was changed by hand since the portal wrote it; it was left alone. "
            "Export with force to replace it."
        )
        return
    else:
        key_folder.write_atomically(folder, name, wanted.content)
        result.written.append(name)
    ExportedFile.objects.update_or_create(
        target=target,
        file_name=name,
        defaults={
            "issuer": wanted.issuer,
            "kid": wanted.kid,
            "sha256": wanted.sha256,
            "written_at": clock.now(),
        },
    )


def _take_away(folder, name, record, result, force) -> None:
    path = folder / name
    if path.is_symlink():
        result.problems.append(f"{name} is a symbolic link; it was left alone.")
        return
    current = _read(path)
    if current is not None and sha256(current) != record.sha256 and not force:
        result.problems.append(
            f"{name} is no longer needed but was changed by hand; it was left alone. "
            "Export with force to remove it."
        )
        return
    if current is not None:
        key_folder.remove(folder, name)
        result.removed.append(name)
    record.delete()


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _record(actor: Actor, target: ExportTarget, result: ExportResult) -> None:
    target.last_export_at = clock.now()
    target.last_export_ok = result.ok
    target.last_export_result = result.summary
    target.save(update_fields=["last_export_at", "last_export_ok", "last_export_result"])
    audit_record(
        actor=actor,
        action="export.run" if result.ok else "export.failed",
        target=target,
        details={
            "folder": str(target.folder),
            "written": result.written,
            "removed": result.removed,
            "problems": result.problems,
            "failure": result.failure,
        },
    )


def target_check(target: ExportTarget) -> list[key_folder.Finding]:
    """Compare the target's folder with the database and with its profile's rules. Changes
    nothing. Errors first."""
    Finding, ERROR = key_folder.Finding, key_folder.ERROR
    try:
        folder = target_folder(target, create=False)
    except InvalidInput as exc:
        return [Finding(ERROR, "folder", exc.message, "Fix the target's path or the folder.")]
    findings = []
    folder_mode = key_folder.folder_mode_finding(folder)
    if folder_mode:
        findings.append(folder_mode)
    entries = key_folder.read_entries(folder)
    owned = {record.file_name: record for record in target.files.all()}
    findings += key_folder.folder_findings(target.profile, entries, set(owned))
    expected = expected_files(target)
    for name, wanted in sorted(expected.items()):
        findings += _expected_file_findings(folder, name, wanted, owned.get(name))
        style = key_folder.iss_style_finding(
            target.profile, wanted.issuer.name, wanted.issuer.iss_style
        )
        if style:
            findings.append(style)
    for name in sorted(set(owned) - set(expected)):
        if os.path.lexists(folder / name):
            findings.append(
                Finding(
                    ERROR,
                    "stale",
                    f"{name} holds a key the portal no longer exports (issuer disabled, or its "
                    "key retired without a successor): tokens it signed are still accepted.",
                    "Run export_keys to remove it.",
                    name,
                )
            )
    return sorted(findings, key=lambda finding: (finding.severity != ERROR, finding.file))


def _expected_file_findings(folder: Path, name: str, wanted: ExpectedFile, record):
    Finding, ERROR = key_folder.Finding, key_folder.ERROR
    path = folder / name
    if path.is_symlink():
        return []  # reported by the folder rules
    try:
        current = _read(path)
    except OSError:
        return []  # not a readable file: reported by the folder rules ("unreadable")
    if current is None:
        return [
            Finding(
                ERROR,
                "missing",
                f"{name} is missing: tokens of issuer {wanted.issuer.name!r} are refused.",
                "Run export_keys.",
                name,
            )
        ]
    if current == wanted.content:
        return []
    if record is None:
        return [
            Finding(
                ERROR,
                "foreign_at_name",
                f"{name} was not written by the portal and does not hold issuer "
                f"{wanted.issuer.name!r}'s active key.",
                f"Remove {name}, then run export_keys.",
                name,
            )
        ]
    if sha256(current) == record.sha256:
        return [
            Finding(
                ERROR,
                "outdated",
                f"{name} holds key {record.kid}, not the active key {wanted.kid}.",
                "Run export_keys.",
                name,
            )
        ]
    return [
        Finding(
            ERROR,
            "drift",
            f"{name} was changed by hand since the portal wrote it and does not hold the "
            "active key.",
            "Run export_keys --force to replace it with the active key.",
            name,
        )
    ]
