"""Per-user rate limits for the API calls a runaway script can repeat fastest.

A view names its limited methods in ``throttle_scopes`` (``{"POST": "mint"}``); the rates are
``settings.PORTAL_THROTTLE_RATES``, read on each request so that a changed setting applies at
once. Time comes from keys.clock, so that tests move the clock instead of sleeping.
"""

import re

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from keys import clock

RATE = re.compile(r"^\s*(\d+)\s*/\s*(s|sec|second|m|min|minute|h|hour|d|day)\s*$")
PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"120/min"`` -> (120 requests, 60 seconds). Raises ValueError with a readable text."""
    match = RATE.match(rate or "")
    if not match or int(match.group(1)) < 1:
        raise ValueError(
            f"{rate!r} is not a rate: use a positive count per second, minute, hour or day, "
            "e.g. 120/min"
        )
    return int(match.group(1)), PERIOD_SECONDS[match.group(2)[0]]


class PerUserMethodThrottle(BaseThrottle):
    """A counter per user, scope and fixed window. DRF's own throttles keep a list of every
    request's time, which costs reading and writing thousands of entries per request at high
    rates; a counter costs the same at any rate. The window's edge lets a burst of up to twice
    the rate through, and the file cache's increment is not atomic across workers, so two at
    once may lose a count; a limit against runaway scripts can afford both."""

    retry_after: float | None = None

    def allow_request(self, request, view) -> bool:
        scope = getattr(view, "throttle_scopes", {}).get(request.method)
        if scope is None or not request.user.is_authenticated:
            return True
        limit, period = parse_rate(settings.PORTAL_THROTTLE_RATES[scope])
        now = clock.now().timestamp()
        window = int(now // period)
        key = f"throttle:{scope}:{request.user.pk}:{window}"
        cache.add(key, 0, timeout=period + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # the entry expired between add and incr
            cache.set(key, 1, timeout=period + 1)
            count = 1
        if count <= limit:
            return True
        self.retry_after = (window + 1) * period - now
        return False

    def wait(self) -> float | None:
        return self.retry_after
