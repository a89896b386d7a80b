from keys.management.base import PortalCommand
from keys.neuronex.revocation import revocation_notice
from keys.selectors import token_accepted_until, token_get
from keys.services.tokens import token_revoke


class Command(PortalCommand):
    help = "Revoke a token by its jti, recording who, when and why."

    def add_arguments(self, parser):
        parser.add_argument("jti")
        parser.add_argument("--reason", default="", help="why the token is revoked")

    def handle(self, *args, **options):
        token = token_revoke(
            actor=self.actor, token=token_get(options["jti"]), reason=options["reason"]
        )
        self.stdout.write(f"Revoked {token.jti} ({token.label}).")
        self.stdout.write(revocation_notice(token_accepted_until(token)))
