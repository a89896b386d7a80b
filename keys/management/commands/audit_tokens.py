from keys import clock, reports
from keys.management.base import PortalCommand, duration_option
from keys.models.token import TokenStatus
from keys.selectors import issuer_get, token_list

WRITERS = {"table": reports.write_table, "csv": reports.write_csv, "json": reports.write_json}


class Command(PortalCommand):
    help = "List tracked tokens with their status and expiry, as a table, CSV or JSON."

    def add_arguments(self, parser):
        parser.add_argument("--issuer", help="only this issuer's tokens")
        parser.add_argument("--status", choices=TokenStatus.values)
        parser.add_argument("--expiring-within", help="only active tokens expiring within, e.g. 7d")
        parser.add_argument("--format", choices=sorted(WRITERS), default="table")

    def handle(self, *args, **options):
        now = clock.now()
        tokens = token_list(
            issuer=issuer_get(options["issuer"]) if options["issuer"] else None,
            status=options["status"],
            expiring_within=duration_option(options["expiring_within"]),
            now=now,
        )
        rows = reports.token_rows(tokens.iterator(chunk_size=2000), now)
        self.stdout.ending = ""  # the writers end their own lines
        WRITERS[options["format"]](rows, self.stdout)
