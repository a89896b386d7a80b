from django.db import IntegrityError, transaction
from django.views.decorators.debug import sensitive_variables

from keys import clock, crypto
from keys.errors import Conflict, InvalidInput
from keys.models import Issuer, KeyPair
from keys.services.actor import Actor
from keys.services.audit import audit_record
from keys.services.exports import schedule_auto_export
from keys.services.locks import issuer_keys_lock, serialize

_ACTIONS = {KeyPair.Origin.GENERATED: "key.generate", KeyPair.Origin.IMPORTED: "key.import"}


def keypair_generate(*, actor: Actor, issuer: Issuer, bits: int = 2048) -> KeyPair:
    """The issuer's first key pair, or its next one after the last was retired."""
    material = crypto.generate(bits)  # slow for 4096 bits: outside any transaction
    return _install(actor=actor, issuer=issuer, material=material, origin=KeyPair.Origin.GENERATED)


# An error report (Django's DEBUG page or its error mails) shows each frame's variables.
@sensitive_variables("pem", "passphrase", "material")
def keypair_import(
    *,
    actor: Actor,
    issuer: Issuer,
    pem: bytes,
    passphrase: str | None = None,
    replace_active: bool = False,
) -> KeyPair:
    """Take over a private key made elsewhere (``openssl genrsa`` or PKCS#8, optionally
    passphrase-protected). With ``replace_active`` it replaces the active key, as a rotation."""
    material = crypto.load_private_pem(pem, passphrase)
    return _install(
        actor=actor,
        issuer=issuer,
        material=material,
        origin=KeyPair.Origin.IMPORTED,
        replace_active=replace_active,
    )


def keypair_rotate(*, actor: Actor, issuer: Issuer, bits: int | None = None) -> KeyPair:
    """A new key pair becomes active and the old one is retired, in one transaction.

    Tokens signed by the old key stop verifying once the new public key is exported and the
    verifier has reloaded it."""
    if bits is None:
        current = KeyPair.objects.filter(issuer=issuer, status=KeyPair.Status.ACTIVE).first()
        bits = current.bits if current else 2048
    material = crypto.generate(bits)
    return _install(
        actor=actor,
        issuer=issuer,
        material=material,
        origin=KeyPair.Origin.GENERATED,
        replace_active=True,
    )


def keypair_retire(*, actor: Actor, key_pair: KeyPair) -> KeyPair:
    """Retire a key pair without a successor: its issuer can mint nothing until it gets one."""
    with transaction.atomic():
        serialize(issuer_keys_lock(key_pair.issuer_id))
        key_pair = KeyPair.objects.select_for_update().get(pk=key_pair.pk)
        if key_pair.status == KeyPair.Status.RETIRED:
            raise Conflict(f"Key {key_pair.kid} was retired already, at {key_pair.retired_at}.")
        _retire(key_pair)
        audit_record(actor=actor, action="key.retire", target=key_pair, details=_describe(key_pair))
        schedule_auto_export(actor)
    return key_pair


def _install(
    *,
    actor: Actor,
    issuer: Issuer,
    material: crypto.KeyMaterial,
    origin: str,
    replace_active: bool = False,
) -> KeyPair:
    ciphertext = crypto.encrypt_private_key(material.private_key)
    with transaction.atomic():
        # The issuer's key lock orders key changes of one issuer and waits for the mints in
        # flight; the partial unique index is the backstop that makes two active keys
        # impossible whatever the code does.
        serialize(issuer_keys_lock(issuer.pk))
        duplicate = KeyPair.objects.filter(kid=material.kid).select_related("issuer").first()
        if duplicate is not None:
            raise Conflict(
                f"This key is registered already (issuer {duplicate.issuer.name!r}, "
                f"kid {material.kid}, {duplicate.status}). A key pair belongs to one issuer.",
                field="file",
            )
        current = KeyPair.objects.filter(issuer=issuer, status=KeyPair.Status.ACTIVE).first()
        if current is not None and not replace_active:
            raise Conflict(
                f"Issuer {issuer.name!r} already has an active key ({current.kid}). Rotate the "
                "key to replace it.",
                field="issuer",
            )
        if current is not None:
            _retire(current)
        try:
            with transaction.atomic():
                key_pair = KeyPair.objects.create(
                    issuer=issuer,
                    kid=material.kid,
                    bits=material.bits,
                    public_pem=material.public_pem,
                    private_key_encrypted=ciphertext,
                    status=KeyPair.Status.ACTIVE,
                    origin=origin,
                    created_by=actor.user,
                )
        except IntegrityError as exc:  # a concurrent import of the same key won the race
            raise Conflict("This key was registered concurrently; nothing was changed.") from exc
        action = "key.rotate" if current else _ACTIONS[origin]
        details = {**_describe(key_pair), "origin": origin}
        if current is not None:
            details["replaced_kid"] = current.kid
        audit_record(actor=actor, action=action, target=key_pair, details=details)
        schedule_auto_export(actor)
    return key_pair


def _retire(key_pair: KeyPair) -> None:
    key_pair.status = KeyPair.Status.RETIRED
    key_pair.retired_at = clock.now()
    key_pair.save(update_fields=["status", "retired_at"])
    kid = key_pair.kid
    transaction.on_commit(lambda: crypto.signing_keys.forget(kid))


def _describe(key_pair: KeyPair) -> dict:
    return {"issuer": key_pair.issuer.name, "kid": key_pair.kid, "bits": key_pair.bits}


def keypair_private_pem(*, actor: Actor, key_pair: KeyPair, reason: str) -> str:
    """The private key as unencrypted PKCS#8 PEM, for the one audited download. The reason is
    required and recorded; the key itself never is."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the private key is downloaded.", field="reason")
    if len(reason) > 1000:
        raise InvalidInput("The reason has at most 1000 characters.", field="reason")
    pem = crypto.private_pem(crypto.decrypt_private_key(key_pair.private_key_encrypted))
    audit_record(
        actor=actor,
        action="key.download_private",
        target=key_pair,
        details={**_describe(key_pair), "reason": reason},
    )
    return pem
