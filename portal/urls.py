from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from portal.views import healthz

admin.site.site_header = "NeuronEX Token Portal"
admin.site.site_title = "NeuronEX Token Portal"
admin.site.index_title = "Keys and tokens"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]
