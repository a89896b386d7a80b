import argparse
from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from keys.crypto import EncryptionKeyError
from keys.durations import DurationError, parse_duration
from keys.errors import PortalError
from keys.services.actor import Actor


class PortalCommand(BaseCommand):
    """A command whose domain errors end it with a one-line message and exit status 1."""

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except (PortalError, EncryptionKeyError) as exc:
            raise CommandError(str(exc)) from exc

    @property
    def actor(self) -> Actor:
        return Actor.cli()


def duration_option(text: str | None) -> timedelta | None:
    if text is None:
        return None
    try:
        return parse_duration(text)
    except DurationError as exc:
        raise CommandError(str(exc)) from exc


def instant_option(text: str | None) -> datetime | None:
    """An ISO 8601 date or date-time; without a zone it is read as UTC."""
    if text is None:
        return None
    try:
        value = parse_datetime(text) or (
            datetime.fromisoformat(text) if len(text.strip()) == 10 else None
        )
    except ValueError:
        value = None
    if value is None:
        raise CommandError(
            f"{text!r} is not an ISO 8601 time, e.g. 2027-01-31 or 2027-01-31T08:00:00Z."
        )
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def bits_option(parser: argparse.ArgumentParser, default: int | None = 2048) -> None:
    from keys.neuronex.profiles import RSA_KEY_SIZES

    parser.add_argument(
        "--bits",
        type=int,
        choices=RSA_KEY_SIZES,
        default=default,
        help="RSA key size" + (f" (default {default})" if default else ""),
    )
