import io
import os

from django.core.management import call_command
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

application = get_wsgi_application()

# A WSGI server runs no system checks by itself: run them so that a misconfigured production
# deployment fails at start instead of serving requests without its secrets.
call_command("check", fail_level="ERROR", stdout=io.StringIO())
