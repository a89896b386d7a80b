from keys.durations import format_duration
from keys.management.base import PortalCommand, duration_option
from keys.services.retention import tokens_prune


class Command(PortalCommand):
    help = (
        "Delete the rows of tokens that expired more than --expired-before ago, revoked or "
        "not, in batches. Unexpired tokens (revoked ones too: NeuronEX may still accept them) "
        "and audit events are never deleted. --dry-run only says what would go."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--expired-before",
            required=True,
            help="prune tokens whose expiry lies longer ago than this, e.g. 180d",
        )
        parser.add_argument("--dry-run", action="store_true", help="report only; change nothing")
        parser.add_argument(
            "--batch-size", type=int, default=1000, help="rows per transaction (default 1000)"
        )

    def handle(self, *args, **options):
        age = duration_option(options["expired_before"])
        result = tokens_prune(
            actor=self.actor,
            expired_before=age,
            batch_size=options["batch_size"],
            dry_run=options["dry_run"],
        )
        cutoff = f"{result.cutoff:%Y-%m-%d %H:%M:%S} UTC"
        if not result.count:
            self.stdout.write(f"No token expired before {cutoff} ({format_duration(age)} ago).")
            return
        verb = "Would delete" if result.dry_run else "Deleted"
        per_issuer = ", ".join(f"{name} {count}" for name, count in result.by_issuer.items())
        self.stdout.write(
            f"{verb} {result.count} token(s) that expired before {cutoff} "
            f"({format_duration(age)} ago): {per_issuer}; their expiries run from "
            f"{result.exp_min:%Y-%m-%d %H:%M:%S} to {result.exp_max:%Y-%m-%d %H:%M:%S} UTC."
        )
