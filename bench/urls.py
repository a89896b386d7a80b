"""portal.urls plus ``api/v1/bench/sign/`` (see bench/settings.py)."""

from django.urls import path

from bench.sign_view import SignOnlyView

# Everything portal.urls defines: its patterns and its error handlers (handler404 ...), which
# Django looks up in the ROOT_URLCONF module itself.
from portal.urls import *  # noqa: F403
from portal.urls import urlpatterns as portal_urlpatterns

urlpatterns = [
    path("api/v1/bench/sign/", SignOnlyView.as_view(), name="bench-sign"),
    *portal_urlpatterns,
]
