from django.core.management.base import CommandError

from keys.management.base import PortalCommand
from keys.selectors import target_get
from keys.services.exports import export_targets, target_check


class Command(PortalCommand):
    help = (
        "Write the active public keys into the export targets' folders (every enabled target, "
        "or --target). With --check, change nothing: list what is out of line with the "
        "database and with the verifier's rules, and exit non-zero on any error."
    )

    def add_arguments(self, parser):
        parser.add_argument("--target", help="only this export target")
        parser.add_argument(
            "--force", action="store_true", help="replace or remove key files changed by hand"
        )
        parser.add_argument("--check", action="store_true", help="report only; change nothing")

    def handle(self, *args, **options):
        target = target_get(options["target"]) if options["target"] else None
        if options["check"]:
            if options["force"]:
                raise CommandError("--check changes nothing; it cannot be combined with --force.")
            return self._check(target)
        results = export_targets(actor=self.actor, target=target, force=options["force"])
        for result in results:
            self.stdout.write(result.summary)
        failed = [result.target.name for result in results if not result.ok]
        if failed:
            raise CommandError(f"Export incomplete for: {', '.join(failed)}.")

    def _check(self, target) -> None:
        from keys.models import ExportTarget

        targets = [target] if target else list(ExportTarget.objects.filter(enabled=True))
        errors = 0
        for each in targets:
            findings = target_check(each)
            self.stdout.write(f"{each.name} ({each.profile}, {each.folder}):")
            if not findings:
                self.stdout.write("  in sync, nothing to report")
            for finding in findings:
                self.stdout.write(f"  {finding.severity.upper()}: {finding.message}")
                self.stdout.write(f"    fix: {finding.fix}")
            errors += sum(finding.severity == "error" for finding in findings)
        if errors:
            raise CommandError(f"{errors} error(s) found.")
