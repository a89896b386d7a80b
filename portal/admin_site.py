from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig


class PortalAdminSite(AdminSite):
    site_header = "NeuronEX Token Portal"
    site_title = "NeuronEX Token Portal"
    index_title = "Keys and tokens"
    index_template = "admin/portal_index.html"

    def index(self, request, extra_context=None):
        from keys.selectors import dashboard_figures  # models are not loaded at import time

        context = {**(extra_context or {})}
        if request.user.has_perm("keys.view_issuedtoken"):
            context["dashboard"] = dashboard_figures()
        return super().index(request, context)


class PortalAdminConfig(AdminConfig):
    default_site = "portal.admin_site.PortalAdminSite"
