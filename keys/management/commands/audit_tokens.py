import json

from django.core.management.base import CommandError

from keys import clock, reports
from keys.durations import format_duration
from keys.management.base import PortalCommand, duration_option
from keys.models.token import TokenStatus
from keys.selectors import audit_event_list, issuer_get, token_list
from keys.token_report import token_report

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
        what = parser.add_mutually_exclusive_group()
        what.add_argument(
            "--report",
            action="store_true",
            help="the expiry report's figures per issuer instead of the tokens (JSON: the "
            "whole report, weeks included)",
        )
        what.add_argument(
            "--audit-events",
            action="store_true",
            help="the audit log, newest first, instead of the tokens (--action to filter)",
        )
        parser.add_argument("--action", help="with --audit-events: only this action")

    def handle(self, *args, **options):
        self.stdout.ending = ""  # the writers end their own lines
        if options["report"] or options["audit_events"]:
            token_options = ("issuer", "status", "expiring_within", "fail_on_expiring")
            if any(options[name] for name in token_options):
                raise CommandError(
                    "--report and --audit-events take no token filters (--issuer, --status, "
                    "--expiring-within, --fail-on-expiring)."
                )
        if options["action"] and not options["audit_events"]:
            raise CommandError("--action filters the audit log: add --audit-events.")
        if options["report"]:
            return self.write_report(options["format"])
        if options["audit_events"]:
            return self.write_audit_events(options["format"], options["action"])
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

        rows = reports.token_export_rows(tokens, now)
        WRITERS[options["format"]](counted(rows), self.stdout)
        if options["fail_on_expiring"] and listed:
            raise CommandError(
                f"{listed} active token(s) expire within {format_duration(window)}.",
                returncode=EXPIRING_EXIT_STATUS,
            )

    def write_report(self, file_format: str) -> None:
        report = token_report()
        if file_format == "json":
            json.dump(report.as_dict(), self.stdout, indent=2)
            self.stdout.write("\n")
            return
        rows = reports.report_rows(report)
        columns = reports.REPORT_COLUMNS
        if file_format == "csv":
            reports.write_csv(rows, self.stdout, columns)
        else:
            reports.write_table(rows, self.stdout, columns)

    def write_audit_events(self, file_format: str, action: str | None) -> None:
        events = audit_event_list(action=action)
        rows = reports.audit_rows(events.iterator(chunk_size=reports.ITERATOR_CHUNK_SIZE))
        if file_format == "csv":
            reports.write_csv(rows, self.stdout, reports.AUDIT_COLUMNS)
        elif file_format == "json":
            reports.write_json(rows, self.stdout)
        else:
            reports.write_table(rows, self.stdout, reports.AUDIT_TABLE_COLUMNS)
