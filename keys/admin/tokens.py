from django.contrib import admin

from keys import clock
from keys.admin.base import ReadOnlyAdmin
from keys.models import IssuedToken
from keys.models.token import TokenStatus


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return TokenStatus.choices

    def queryset(self, request, queryset):
        if self.value() in TokenStatus.values:
            return queryset.with_status(self.value(), clock.now())
        return queryset


@admin.register(IssuedToken)
class IssuedTokenAdmin(ReadOnlyAdmin):
    list_display = ["jti", "label", "issuer", "status", "exp", "minted_by_name", "channel"]
    list_filter = [StatusFilter, "issuer", "channel"]
    list_select_related = ["issuer"]
    search_fields = ["=jti", "label"]
    date_hierarchy = "exp"
    ordering = ["exp"]
    fields = [
        "jti",
        "label",
        "issuer",
        "key_pair",
        "status",
        "iat",
        "exp",
        "claims",
        "minted_by_name",
        "channel",
        "revoked_at",
        "revoked_by_name",
        "revoke_reason",
    ]
    readonly_fields = fields

    @admin.display(description="status")
    def status(self, obj: IssuedToken) -> str:
        return obj.status_at(clock.now()).label
