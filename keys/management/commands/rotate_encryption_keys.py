from keys.management.base import PortalCommand
from keys.services.encryption import encryption_keys_rotate


class Command(PortalCommand):
    help = (
        "Re-encrypt every stored private key under the first of PORTAL_ENCRYPTION_KEYS. Run it "
        "after putting a new key first; afterwards the old keys can be removed."
    )

    def handle(self, *args, **options):
        count = encryption_keys_rotate(actor=self.actor)
        self.stdout.write(f"Re-encrypted {count} private key(s) under the first encryption key.")
