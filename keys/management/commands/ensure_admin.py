import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Make sure the superuser 'admin' exists. Its password comes from PORTAL_ADMIN_PASSWORD "
        "or is generated and printed once; an existing account is never changed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, **options):
        User = get_user_model()
        username = options["username"]
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"Account {username!r} exists; its password is unchanged.")
            return
        given = os.environ.get("PORTAL_ADMIN_PASSWORD")
        password = given or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        if given:
            self.stdout.write(f"Created {username!r} with the password in PORTAL_ADMIN_PASSWORD.")
        else:
            self.stdout.write(
                f"Created {username!r} with password: {password}\n"
                "It is shown this once; change it in the admin after logging in."
            )
