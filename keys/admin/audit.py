from django.contrib import admin

from keys.admin.base import ReadOnlyAdmin
from keys.admin.export_views import export_urls
from keys.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["seq", "created_at", "actor_name", "channel", "action", "object_repr"]
    list_filter = ["action", "channel", "actor_name"]
    search_fields = ["actor_name", "object_id", "object_repr"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = [
        "seq",
        "created_at",
        "actor_name",
        "channel",
        "remote_addr",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "details",
        "prev_hash",
        "hash",
    ]
    readonly_fields = fields

    def get_urls(self):
        return export_urls(self) + super().get_urls()  # before "<path:object_id>/"
