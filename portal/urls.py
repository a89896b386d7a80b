from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from keys.api.errors import unknown_address
from keys.api.jwks import jwks
from portal.views import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/v1/", include("keys.api.urls")),
    path("healthz", healthz, name="healthz"),
    path(".well-known/jwks.json", jwks, name="jwks"),
    re_path(r"^api/", unknown_address),
]

handler400 = "portal.views.bad_request"
handler403 = "portal.views.permission_denied"
handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
