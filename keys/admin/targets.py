from django.contrib import admin

from keys.admin.base import ReadOnlyAdmin
from keys.models import ExportTarget


@admin.register(ExportTarget)
class ExportTargetAdmin(ReadOnlyAdmin):
    list_display = ["name", "path", "profile", "enabled", "auto_export", "last_export_at"]
    readonly_fields = [
        "name",
        "path",
        "profile",
        "enabled",
        "auto_export",
        "last_export_at",
        "last_export_ok",
        "last_export_result",
        "created_at",
    ]
