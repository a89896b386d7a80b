from django.core.management.base import CommandError

from keys import clock, reports
from keys.durations import format_duration
from keys.management.base import PortalCommand, duration_option
from keys.models.token import TokenStatus
from keys.selectors import issuer_get, token_list

WRITERS = {"table": reports.write_table, "csv": reports.write_csv, "json": reports.write_json}
# Distinct from 1 (bad input, broken state), so that cron and CI can tell "tokens are about to
# expire" from "the check itself failed".
EXPIRING_EXIT_STATUS = 2


class Command(PortalCommand):
    help = (
        "List tracked tokens with their status and expiry, as a table, CSV or JSON. With "
        "--expiring-within and --fail-on-expiring, exit with status 2 when any active token "
        "expires within the window (after listing them), 0 when none does."
    )

    def add_arguments(self, parser):
        parser.add_argument("--issuer", help="only this issuer's tokens")
        parser.add_argument("--status", choices=TokenStatus.values)
        parser.add_argument("--expiring-within", help="only active tokens expiring within, e.g. 7d")
        parser.add_argument("--format", choices=sorted(WRITERS), default="table")
        parser.add_argument(
            "--fail-on-expiring",
            action="store_true",
            help="exit with status 2 if any token is listed (needs --expiring-within)",
        )

    def handle(self, *args, **options):
        if options["fail_on_expiring"] and options["expiring_within"] is None:
            raise CommandError("--fail-on-expiring needs --expiring-within, e.g. 14d.")
        window = duration_option(options["expiring_within"])
        now = clock.now()
        tokens = token_list(
            issuer=issuer_get(options["issuer"]) if options["issuer"] else None,
            status=options["status"],
            expiring_within=window,
            now=now,
        )
        listed = 0

        def counted(rows):
            nonlocal listed
            for row in rows:
                listed += 1
                yield row

        tokens = reports.token_export_queryset(tokens)
        rows = reports.token_rows(tokens.iterator(chunk_size=reports.ITERATOR_CHUNK_SIZE), now)
        self.stdout.ending = ""  # the writers end their own lines
        WRITERS[options["format"]](counted(rows), self.stdout)
        if options["fail_on_expiring"] and listed:
            raise CommandError(
                f"{listed} active token(s) expire within {format_duration(window)}.",
                returncode=EXPIRING_EXIT_STATUS,
            )
