import getpass
import sys
from pathlib import Path

from django.core.management.base import CommandError

from keys.management.base import PortalCommand
from keys.selectors import issuer_get
from keys.services.keypairs import keypair_import


class Command(PortalCommand):
    help = (
        "Import an RSA private key (PEM, PKCS#1 as `openssl genrsa` writes it or PKCS#8, "
        "optionally passphrase-protected) as the issuer's key pair."
    )

    def add_arguments(self, parser):
        parser.add_argument("issuer")
        parser.add_argument("file", help="PEM file, or - for standard input")
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--passphrase-file", help="read the passphrase from this file")
        source.add_argument(
            "--ask-passphrase", action="store_true", help="prompt for the passphrase"
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="replace the issuer's active key (retiring it) instead of refusing",
        )

    def handle(self, *args, **options):
        issuer = issuer_get(options["issuer"])
        pem = self._read(options["file"])
        key_pair = keypair_import(
            actor=self.actor,
            issuer=issuer,
            pem=pem,
            passphrase=self._passphrase(options),
            replace_active=options["replace"],
        )
        self.stdout.write(
            f"Imported a {key_pair.bits}-bit key pair for {issuer.name}: kid {key_pair.kid}."
        )

    def _read(self, name: str) -> bytes:
        if name == "-":
            return sys.stdin.buffer.read()
        try:
            return Path(name).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {name}: {exc.strerror}.") from exc

    def _passphrase(self, options) -> str | None:
        if options["ask_passphrase"]:
            return getpass.getpass("Passphrase: ")
        if options["passphrase_file"]:
            try:
                return Path(options["passphrase_file"]).read_text().rstrip("\r\n")
            except OSError as exc:
                raise CommandError(
                    f"Cannot read {options['passphrase_file']}: {exc.strerror}."
                ) from exc
        return None
