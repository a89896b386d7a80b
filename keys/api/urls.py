from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from keys.api import export_views, views
from keys.api.report_views import TokenReportView

urlpatterns = [
    path("issuers/", views.IssuerListView.as_view(), name="api-issuers"),
    path("issuers/<str:name>/", views.IssuerDetailView.as_view(), name="api-issuer"),
    path("issuers/<str:name>/public.pem", views.PublicKeyView.as_view(), name="api-public-pem"),
    path("issuers/<str:name>/keys/", views.IssuerKeysView.as_view(), name="api-issuer-keys"),
    path(
        "issuers/<str:name>/keys/import/",
        views.IssuerKeyImportView.as_view(),
        name="api-issuer-key-import",
    ),
    path("issuers/<str:name>/rotate/", views.IssuerRotateView.as_view(), name="api-issuer-rotate"),
    path("targets/", views.TargetListView.as_view(), name="api-targets"),
    path("targets/<str:name>/export/", views.TargetExportView.as_view(), name="api-target-export"),
    path("targets/<str:name>/check/", views.TargetCheckView.as_view(), name="api-target-check"),
    path("audit-events/", views.AuditEventListView.as_view(), name="api-audit-events"),
    path(
        "audit-events/export/",
        export_views.AuditEventExportView.as_view(),
        name="api-audit-events-export",
    ),
    path("tokens/", views.TokenListView.as_view(), name="api-tokens"),
    path("tokens/verify/", views.TokenVerifyView.as_view(), name="api-token-verify"),
    # Before "tokens/<str:jti>/", which would take "export" for a jti.
    path("tokens/export/", export_views.TokenExportView.as_view(), name="api-tokens-export"),
    path("tokens/<str:jti>/", views.TokenDetailView.as_view(), name="api-token"),
    path("tokens/<str:jti>/revoke/", views.TokenRevokeView.as_view(), name="api-token-revoke"),
    path("reports/tokens/", TokenReportView.as_view(), name="api-report-tokens"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
