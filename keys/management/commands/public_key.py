from keys.management.base import PortalCommand
from keys.selectors import issuer_active_key, issuer_get


class Command(PortalCommand):
    help = (
        "Print the public key file NeuronEX needs for an issuer (SubjectPublicKeyInfo PEM), "
        "to be saved as <name>.pem in its etc folder."
    )

    def add_arguments(self, parser):
        parser.add_argument("issuer")

    def handle(self, *args, **options):
        key_pair = issuer_active_key(issuer_get(options["issuer"]))
        self.stdout.write(key_pair.public_pem, ending="")
