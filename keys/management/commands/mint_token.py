import json

from keys.management.base import PortalCommand, duration_option, instant_option
from keys.selectors import issuer_get
from keys.services.tokens import token_mint


class Command(PortalCommand):
    help = (
        "Mint a tracked token. Prints the token alone on stdout (or, with --json, an object "
        "with jti, token, iss, aud, iat and exp). It is not stored and cannot be shown again."
    )

    def add_arguments(self, parser):
        parser.add_argument("issuer")
        parser.add_argument("--label", required=True, help="what the token is for")
        when = parser.add_mutually_exclusive_group()
        when.add_argument("--ttl", help="lifetime: 90d, 12h, 30m or seconds")
        when.add_argument("--expires-at", help="ISO 8601 expiry time (UTC unless a zone is given)")
        parser.add_argument("--json", action="store_true", help="print a JSON object")

    def handle(self, *args, **options):
        minted = token_mint(
            actor=self.actor,
            issuer=issuer_get(options["issuer"]),
            label=options["label"],
            ttl=duration_option(options["ttl"]),
            expires_at=instant_option(options["expires_at"]),
        )
        for warning in minted.warnings:
            self.stderr.write(f"Warning: {warning}")
        if not options["json"]:
            self.stdout.write(minted.token)
            return
        claims = minted.record.claims
        output = {
            "jti": claims["jti"],
            "token": minted.token,
            "iss": claims["iss"],
            "aud": claims["aud"],
            "iat": claims["iat"],
            "exp": claims["exp"],
        }
        self.stdout.write(json.dumps(output))
