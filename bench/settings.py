"""The portal's settings with the sign-only endpoint of bench/sign_view.py added.

Only the gunicorn that bench/api.py starts runs with these, so that the product itself never
serves an endpoint that signs without recording.
"""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
