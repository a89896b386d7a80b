import json
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction

from keys import clock
from keys.models import AuditEvent
from keys.models.audit import GENESIS_HASH
from keys.services.actor import Actor
from keys.services.locks import serialize

CHAIN_LOCK = "keys.audit-chain"


def audit_record(
    *,
    actor: Actor,
    action: str,
    target: models.Model | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain.

    Runs inside the caller's transaction, so the event commits or rolls back with the change
    it records. The chain lock is taken last and held only until that commit, so concurrent
    writers append one after the other without forking the chain.
    """
    # What the database will give back: JSON types only, so the hash verifies after a reload.
    details = json.loads(json.dumps(details or {}, cls=DjangoJSONEncoder))
    # No savepoint: an event fails only with its transaction, and a savepoint costs two round
    # trips on every write.
    with transaction.atomic(savepoint=False):
        serialize(CHAIN_LOCK)
        last_seq, last_hash = _chain_head()
        event = AuditEvent(
            seq=last_seq + 1,
            prev_hash=last_hash,
            created_at=clock.now(),
            actor=actor.user,
            actor_name=actor.display_name[:150],
            channel=actor.channel,
            remote_addr=actor.remote_addr,
            action=action,
            object_type=target._meta.model_name if target is not None else "",
            object_id=_object_id(target),
            object_repr=str(target)[:200] if target is not None else "",
            details=details,
        )
        event.hash = event.compute_hash()
        event.save(force_insert=True)
    return event


def _chain_head() -> tuple[int, str]:
    """The last event's seq and hash. Plain SQL: it runs on every write, and the ORM's query
    building costs more than the query."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT seq, hash FROM {AuditEvent._meta.db_table} "  # noqa: S608 (no user input)
            "ORDER BY seq DESC LIMIT 1"
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (0, GENESIS_HASH)


def _object_id(target: models.Model | None) -> str:
    if target is None:
        return ""
    # Tokens are known by jti, issuers by name: ids people can search for.
    for field in ("jti", "name", "kid"):
        if hasattr(target, field):
            return str(getattr(target, field))
    return str(target.pk)


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    problem: str


def audit_verify(batch_size: int = 2000) -> tuple[int, ChainBreak | None]:
    """Walk the chain in order; return how many events verified and the first break, if any."""
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=batch_size):
        if event.seq != expected_seq:
            return checked, ChainBreak(
                expected_seq, f"events {expected_seq}..{event.seq - 1} are missing (deleted)"
            )
        if event.prev_hash != expected_prev:
            return checked, ChainBreak(
                event.seq, "does not follow its predecessor (an event before it was altered)"
            )
        if event.compute_hash() != event.hash:
            return checked, ChainBreak(event.seq, "was altered after it was written")
        expected_prev, expected_seq, checked = event.hash, event.seq + 1, checked + 1
    return checked, None
