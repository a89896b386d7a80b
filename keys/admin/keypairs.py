from django.contrib import admin

from keys.admin.base import ReadOnlyAdmin
from keys.models import KeyPair


@admin.register(KeyPair)
class KeyPairAdmin(ReadOnlyAdmin):
    list_display = ["kid", "issuer", "bits", "status", "origin", "created_at", "retired_at"]
    list_filter = ["status", "origin", "bits", "issuer"]
    list_select_related = ["issuer"]
    search_fields = ["kid", "issuer__name"]
    # The encrypted private key is deliberately absent from every list and form.
    fields = [
        "issuer",
        "kid",
        "bits",
        "status",
        "origin",
        "public_pem",
        "created_by",
        "created_at",
        "retired_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("private_key_encrypted")
