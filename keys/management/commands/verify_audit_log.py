from django.core.management.base import CommandError

from keys.management.base import PortalCommand
from keys.services.audit import audit_verify


class Command(PortalCommand):
    help = (
        "Check the audit log's hash chain. Exits non-zero and names the first event that was "
        "altered or removed."
    )

    def handle(self, *args, **options):
        checked, chain_break = audit_verify()
        if chain_break is not None:
            raise CommandError(
                f"Audit log broken at event #{chain_break.seq}: {chain_break.problem} "
                f"({checked} event(s) before it verified)."
            )
        self.stdout.write(f"Audit log intact: {checked} event(s) verified.")
