from keys.management.base import PortalCommand, bits_option
from keys.selectors import issuer_get
from keys.services.keypairs import keypair_generate


class Command(PortalCommand):
    help = "Generate the issuer's RSA key pair (use rotate_key to replace an active one)."

    def add_arguments(self, parser):
        parser.add_argument("issuer")
        bits_option(parser)

    def handle(self, *args, **options):
        key_pair = keypair_generate(
            actor=self.actor, issuer=issuer_get(options["issuer"]), bits=options["bits"]
        )
        self.stdout.write(
            f"Generated a {key_pair.bits}-bit key pair for {key_pair.issuer.name}: "
            f"kid {key_pair.kid}."
        )
