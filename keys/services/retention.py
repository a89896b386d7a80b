"""Retention: deleting the rows of tokens that expired long ago.

Only the token rows go (with their expiry alerts and idempotency records, which cascade). The
audit log keeps every event about them: events name a token by its jti, not by a foreign key,
and are never deleted.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Max, Min

from keys import clock
from keys.durations import format_duration
from keys.errors import InvalidInput
from keys.models import IssuedToken
from keys.services.actor import Actor
from keys.services.audit import audit_record


@dataclass
class PruneResult:
    cutoff: datetime
    dry_run: bool
    count: int = 0
    by_issuer: dict[str, int] = field(default_factory=dict)
    exp_min: datetime | None = None
    exp_max: datetime | None = None
    batches: int = 0

    def add(self, issuer_name: str, exp: datetime) -> None:
        self.count += 1
        self.by_issuer[issuer_name] = self.by_issuer.get(issuer_name, 0) + 1
        self.exp_min = exp if self.exp_min is None else min(self.exp_min, exp)
        self.exp_max = exp if self.exp_max is None else max(self.exp_max, exp)


def tokens_prune(
    *,
    actor: Actor,
    expired_before: timedelta,
    batch_size: int = 1000,
    dry_run: bool = False,
    now: datetime | None = None,
) -> PruneResult:
    """Delete tokens whose ``exp`` lies more than ``expired_before`` in the past.

    The test is on ``exp`` alone, revoked or not: a revoked token that has not expired may
    still be accepted by NeuronEX (it has no deny-list), so its record must stay. Each batch
    is its own short transaction, so that a large prune never holds locks for long; one audit
    event records the whole run (a partial one, if the run fails part way).
    """
    if expired_before <= timedelta(0):
        raise InvalidInput("The age must be positive, e.g. 180d.", field="expired_before")
    if batch_size < 1:
        raise InvalidInput("The batch size must be at least 1.", field="batch_size")
    cutoff = (now or clock.now()) - expired_before
    prunable = IssuedToken.objects.filter(exp__lt=cutoff)
    result = PruneResult(cutoff=cutoff, dry_run=dry_run)
    if dry_run:
        return _preview(prunable, result)
    try:
        while _delete_batch(prunable, batch_size, result):
            pass
    except BaseException:
        if result.count:
            _record(actor, expired_before, batch_size, result, complete=False)
        raise
    if result.count:
        _record(actor, expired_before, batch_size, result, complete=True)
    result.by_issuer = dict(sorted(result.by_issuer.items()))
    return result


def _delete_batch(prunable, batch_size: int, result: PruneResult) -> bool:
    with transaction.atomic():
        # Locked, so that the counts recorded are those of the rows this batch deletes.
        rows = list(
            prunable.select_for_update(of=("self",))
            .order_by("id")
            .values_list("id", "issuer__name", "exp")[:batch_size]
        )
        if not rows:
            return False
        IssuedToken.objects.filter(id__in=[row[0] for row in rows]).delete()
    for _, issuer_name, exp in rows:
        result.add(issuer_name, exp)
    result.batches += 1
    return True


def _preview(prunable, result: PruneResult) -> PruneResult:
    per_issuer = (
        prunable.order_by("issuer__name")
        .values("issuer__name")
        .annotate(count=Count("id"), exp_min=Min("exp"), exp_max=Max("exp"))
    )
    for row in per_issuer:
        result.by_issuer[row["issuer__name"]] = row["count"]
        result.count += row["count"]
        result.exp_min = min(filter(None, (result.exp_min, row["exp_min"])))
        result.exp_max = max(filter(None, (result.exp_max, row["exp_max"])))
    return result


def _record(
    actor: Actor, expired_before: timedelta, batch_size: int, result: PruneResult, complete: bool
) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="tokens.prune",
            details={
                "expired_before": format_duration(expired_before),
                "cutoff": result.cutoff,
                "deleted": result.count,
                "by_issuer": dict(sorted(result.by_issuer.items())),
                "exp_min": result.exp_min,
                "exp_max": result.exp_max,
                "batches": result.batches,
                "batch_size": batch_size,
                "complete": complete,
            },
        )
