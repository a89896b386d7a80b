from keys.models.alerts import ExpiryAlert
from keys.models.audit import AuditEvent
from keys.models.idempotency import IdempotentMint
from keys.models.issuer import Issuer
from keys.models.keypair import KeyPair
from keys.models.target import ExportedFile, ExportTarget
from keys.models.token import IssuedToken

__all__ = [
    "AuditEvent",
    "ExpiryAlert",
    "ExportTarget",
    "ExportedFile",
    "IdempotentMint",
    "IssuedToken",
    "Issuer",
    "KeyPair",
]
