from keys.management.base import PortalCommand, duration_option
from keys.neuronex.profiles import AUDIENCES, ISS_BARE, ISS_FILENAME
from keys.services.issuers import issuer_create


class Command(PortalCommand):
    help = "Create an issuer: the name NeuronEX finds its public key by (<name>.pem)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="lowercase letters, digits, '-' and '_'")
        parser.add_argument(
            "--iss-style",
            choices=[ISS_FILENAME, ISS_BARE],
            default=ISS_FILENAME,
            help="filename: iss = <name>.pem (current NeuronEX, default); bare: iss = <name>",
        )
        parser.add_argument(
            "--audience", choices=AUDIENCES, help="aud claim (default PORTAL_DEFAULT_AUDIENCE)"
        )
        parser.add_argument("--default-ttl", help="lifetime when a mint names none, e.g. 90d")
        parser.add_argument("--max-ttl", help="longest lifetime allowed, e.g. 365d")
        parser.add_argument("--description", default="")

    def handle(self, *args, **options):
        issuer = issuer_create(
            actor=self.actor,
            name=options["name"],
            iss_style=options["iss_style"],
            audience=options["audience"],
            default_ttl=duration_option(options["default_ttl"]),
            max_ttl=duration_option(options["max_ttl"]),
            description=options["description"],
        )
        self.stdout.write(
            f"Created issuer {issuer.name}: iss {issuer.iss!r}, aud {issuer.audience!r}, "
            f"key file {issuer.key_file_name}."
        )
