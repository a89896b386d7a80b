import json
import sys

from django.core.management.base import CommandError

from keys.management.base import PortalCommand
from keys.selectors import target_get
from keys.services.verification import verify_token


class Command(PortalCommand):
    help = (
        "Say whether NeuronEX would accept a token, check by check, and what the portal knows "
        "of it. Exits 1 when the token would be refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("token", help="the token, or - to read it from standard input")
        parser.add_argument(
            "--target",
            help="check against this export target's folder as its verifier would "
            "(default: the portal's active keys)",
        )
        parser.add_argument("--json", action="store_true", help="print a JSON object")

    def handle(self, *args, **options):
        from_stdin = options["token"] == "-"  # noqa: S105 (stdin, not a password)
        presented = sys.stdin.read() if from_stdin else options["token"]
        target = target_get(options["target"]) if options["target"] else None
        report = verify_token(presented, target)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict()))
        else:
            self.stdout.write(f"Checked against {report.where}:")
            for check in report.checks:
                self.stdout.write(
                    f"  {'PASS' if check.ok else 'FAIL'} {check.name}: {check.reason}"
                )
            for note in report.notes:
                self.stdout.write(f"  {note}")
            verdict = "accepted" if report.accepted else "refused"
            self.stdout.write(f"The token would be {verdict}.")
        if not report.accepted:
            raise CommandError("The token would be refused.")
