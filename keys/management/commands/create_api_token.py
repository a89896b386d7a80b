from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from keys.management.base import PortalCommand, duration_option
from keys.services.api_tokens import api_token_create


class Command(PortalCommand):
    help = (
        "Make an API token for USER and print it alone on stdout, once. Scripts send it as "
        "'Authorization: Token <key>'; it acts with the user's role."
    )

    def add_arguments(self, parser):
        parser.add_argument("user", help="username")
        parser.add_argument(
            "--expires-in", help="lifetime, e.g. 90d, at most 3650d (default: no expiry)"
        )

    def handle(self, *args, **options):
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: options["user"]})
        except User.DoesNotExist:
            raise CommandError(f"No user is named {options['user']!r}.") from None
        if not user.is_active:
            raise CommandError(f"User {options['user']!r} is inactive.")
        key = api_token_create(
            actor=self.actor, user=user, expires_in=duration_option(options["expires_in"])
        )
        self.stdout.write(key)
