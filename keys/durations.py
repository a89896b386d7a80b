"""Lifetimes as people write them: ``90d``, ``12h``, ``30m``, ``45s`` or plain seconds."""

import re
from datetime import timedelta

_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_PATTERN = re.compile(r"^\s*(\d{1,9})\s*([dhms]?)\s*$")
# How the API documents a duration: the form above without the whitespace it also forgives.
DOCUMENTED_PATTERN = r"^[0-9]{1,9}[dhms]?$"


# Added to a date, a longer one overflows (999999999d is what the pattern allows); no lifetime
# or window here needs more.
LONGEST = timedelta(days=36500)


class DurationError(ValueError):
    pass


def parse_duration(text: str) -> timedelta:
    """Parse ``90d``/``12h``/``30m``/``45s``/``3600`` into a positive timedelta."""
    match = _PATTERN.match(text or "")
    if not match:
        raise DurationError(
            f"{text!r} is not a duration: use a whole number of days, hours, minutes or "
            "seconds, e.g. 90d, 12h, 30m or 3600."
        )
    amount, unit = int(match.group(1)), match.group(2) or "s"
    if amount <= 0:
        raise DurationError(f"{text!r} is not a positive duration.")
    seconds = amount * _UNITS[unit]
    if seconds > LONGEST.total_seconds():
        raise DurationError(f"{text!r} is longer than {LONGEST.days}d, the longest duration.")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The shortest exact form parse_duration reads back: 90d, 12h, 30m or seconds."""
    seconds = int(value.total_seconds())
    for unit, size in _UNITS.items():
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
