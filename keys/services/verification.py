"""verify_token: what a NeuronEX-family verifier, and the portal's own records, say about any
presented token string."""

from dataclasses import dataclass, field
from datetime import datetime

from keys import clock
from keys.errors import InvalidInput
from keys.models import ExportTarget, IssuedToken, KeyPair
from keys.neuronex import folder as key_folder
from keys.neuronex.profiles import AUD_EKUIPER, AUD_NEURONEX, PROFILE_EKUIPER, PROFILE_NEURONEX
from keys.neuronex.verifier import Check, FoundKey, verify
from keys.selectors import token_accepted_until
from keys.services.exports import target_folder
from keys.services.tokens import token_hash


@dataclass
class VerifyReport:
    where: str
    checks: list[Check]
    record: IssuedToken | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return all(check.ok for check in self.checks)

    def as_dict(self) -> dict:
        return {
            "accepted": self.accepted,
            "where": self.where,
            "checks": [
                {"name": check.name, "ok": check.ok, "reason": check.reason}
                for check in self.checks
            ],
            "jti": str(self.record.jti) if self.record else None,
            "notes": self.notes,
        }


def verify_token(token: str, target: ExportTarget | None = None) -> VerifyReport:
    """Check ``token`` as the verifier of ``target``'s profile would, against the files really
    in its folder; without a target, as NeuronEX would against the portal's active keys. Adds
    what the portal knows of the token. Never raises for any input string."""
    now = clock.now()
    token = token.strip() if isinstance(token, str) else ""
    record = _record(token)
    if target is None:
        where, profile, find_key, audience_of = _portal_keys()
    else:
        where, profile, find_key, audience_of = _folder_keys(target)
    checks = verify(
        token,
        profile=profile,
        find_key=find_key,
        audience=audience_of(record),
        now=int(now.timestamp()),
    )
    report = VerifyReport(where=where, checks=checks, record=record)
    report.notes = _notes(report, now)
    return report


def _record(token: str) -> IssuedToken | None:
    if not token:
        return None
    return (
        IssuedToken.objects.select_related("issuer", "key_pair")
        .filter(token_sha256=token_hash(token))
        .first()
    )


def _portal_keys():
    """As current NeuronEX would, with every active key of the portal in its folder."""
    active = {
        key_pair.issuer.key_file_name: key_pair
        for key_pair in KeyPair.objects.filter(status=KeyPair.Status.ACTIVE)
        .select_related("issuer")
        .defer("private_key_encrypted")
    }

    def find_key(iss: str) -> FoundKey | None:
        name = key_folder.key_file_lookup(PROFILE_NEURONEX, iss, list(active))
        if name is None:
            return None
        key_pair = active[name]
        return FoundKey(f"{name} (active key {key_pair.kid})", key_pair.public_pem.encode())

    def audience_of(record: IssuedToken | None) -> str:
        return record.issuer.audience if record else AUD_NEURONEX

    return "the portal's active keys", PROFILE_NEURONEX, find_key, audience_of


def _folder_keys(target: ExportTarget):
    try:
        folder = target_folder(target, create=False)
        names = [entry.name for entry in key_folder.read_entries(folder)]
    except (InvalidInput, OSError) as exc:
        problem = exc.message if isinstance(exc, InvalidInput) else str(exc)

        def find_key(iss: str) -> FoundKey | None:
            return None

        return f"target {target.name} ({problem})", target.profile, find_key, lambda r: None

    def find_key(iss: str) -> FoundKey | None:
        name = key_folder.key_file_lookup(target.profile, iss, names)
        if name is None:
            return None
        try:
            content = (folder / name).read_bytes()
        except OSError:
            content = b""
        content = key_folder.key_bytes_read(target.profile, content)
        return FoundKey(f"{folder / name}", content)

    def audience_of(record: IssuedToken | None) -> str | None:
        if target.profile == PROFILE_EKUIPER:
            return AUD_EKUIPER
        if target.profile == PROFILE_NEURONEX:
            return record.issuer.audience if record else AUD_NEURONEX
        return None

    return f"target {target.name} ({folder})", target.profile, find_key, audience_of


def _notes(report: VerifyReport, now: datetime) -> list[str]:
    record = report.record
    if record is None:
        return ["The portal has no record of this token: it was not minted here."]
    notes = [
        f"Minted by the portal: {record.jti} ({record.label!r}) for issuer "
        f"{record.issuer.name}, signed by key {record.key_pair.kid} "
        f"({record.key_pair.status}), status {record.status_at(now)}."
    ]
    signature = next((check for check in report.checks if check.name == "signature"), None)
    if signature is not None and not signature.ok:
        notes.append(
            f"It was signed by key {record.key_pair.kid}, which {report.where} no longer has."
        )
    if record.revoked_at is not None:
        until = token_accepted_until(record, now)
        if report.accepted and until is not None:
            notes.append(
                f"Revoked, but still accepted by NeuronEX until {until:%Y-%m-%d %H:%M:%S} UTC "
                "or until the issuer's key is rotated."
            )
        else:
            notes.append("Revoked.")
    return notes
