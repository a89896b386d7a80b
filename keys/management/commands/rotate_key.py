from keys.management.base import PortalCommand, bits_option
from keys.selectors import issuer_get, token_count_stopped_by_rotation
from keys.services.keypairs import keypair_rotate


class Command(PortalCommand):
    help = (
        "Replace the issuer's active key pair with a new one and retire the old one. Tokens "
        "signed by the old key stop verifying once the new public key is exported."
    )

    def add_arguments(self, parser):
        parser.add_argument("issuer")
        bits_option(parser, default=None)

    def handle(self, *args, **options):
        issuer = issuer_get(options["issuer"])
        stopped = token_count_stopped_by_rotation(issuer)
        key_pair = keypair_rotate(actor=self.actor, issuer=issuer, bits=options["bits"])
        self.stdout.write(
            f"Rotated {issuer.name}: new {key_pair.bits}-bit key {key_pair.kid}. "
            f"{stopped} unexpired token(s) signed by the old key stop verifying once the new "
            "public key is exported."
        )
