"""The one place the portal asks for "now".

Token expiry, status and reports all read the time from :func:`now`, so tests set the clock with
:func:`frozen_at` instead of sleeping.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.utils import timezone

_frozen: datetime | None = None


def now() -> datetime:
    """The current instant (aware, UTC), or the instant a test froze the clock at."""
    return _frozen if _frozen is not None else timezone.now()


@contextmanager
def frozen_at(instant: datetime) -> Iterator[None]:
    global _frozen
    if timezone.is_naive(instant):
        raise ValueError("frozen_at needs an aware datetime")
    previous, _frozen = _frozen, instant
    try:
        yield
    finally:
        _frozen = previous
