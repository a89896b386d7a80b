from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html_join

from keys.admin.base import admin_actor, report_exports
from keys.errors import PortalError
from keys.models import ExportedFile, ExportTarget
from keys.services.exports import export_targets, target_check
from keys.services.targets import (
    EDITABLE_FIELDS,
    target_create,
    target_set_issuers,
    target_update,
    validate_target_path,
)


class ExportTargetForm(forms.ModelForm):
    class Meta:
        model = ExportTarget
        fields = ["name", *EDITABLE_FIELDS, "issuers"]

    def clean_path(self):
        path = self.cleaned_data["path"]
        try:
            validate_target_path(path)
        except PortalError as exc:
            raise forms.ValidationError(exc.message) from exc
        return path


class ExportedFileInline(admin.TabularInline):
    model = ExportedFile
    fields = ["file_name", "issuer", "kid", "sha256", "written_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ExportTarget)
class ExportTargetAdmin(admin.ModelAdmin):
    form = ExportTargetForm
    list_display = ["name", "folder", "profile", "enabled", "auto_export", "last_export"]
    list_filter = ["profile", "enabled"]
    filter_horizontal = ["issuers"]
    actions = ["export_now", "check_now"]
    inlines = [ExportedFileInline]

    def get_readonly_fields(self, request, obj=None):
        fixed = ["last_export_at", "last_export_ok", "last_export_result", "findings"]
        if obj is None:
            return []
        if obj.is_default:
            return ["name", "path", *fixed]  # the path is the NEURONEX_ETC_DIR setting
        return ["name", *fixed]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # disable instead: the files it holds are the portal's to clean up

    @admin.display(description="last export")
    def last_export(self, obj: ExportTarget) -> str:
        if obj.last_export_at is None:
            return "never"
        return f"{'ok' if obj.last_export_ok else 'FAILED'} at {obj.last_export_at:%Y-%m-%d %H:%M}"

    @admin.display(description="drift and compatibility check")
    def findings(self, obj: ExportTarget):
        found = target_check(obj)
        if not found:
            return "In sync; nothing to report."
        return format_html_join(
            "",
            "<p><strong>{}</strong>: {}<br>Fix: {}</p>",
            ((f.severity.upper(), f.message, f.fix) for f in found),
        )

    def save_model(self, request, obj, form, change):
        actor = admin_actor(request)
        data = form.cleaned_data
        if change:
            changes = {f: data[f] for f in form.changed_data if f in EDITABLE_FIELDS}
            target = target_update(actor=actor, target=obj, **changes)
        else:
            fields = {f: data[f] for f in EDITABLE_FIELDS if f != "path"}
            target = target_create(actor=actor, name=data["name"], path=data["path"], **fields)
        obj.pk = target.pk

    def save_related(self, request, form, formsets, change):
        target = ExportTarget.objects.get(pk=form.instance.pk)
        target_set_issuers(
            actor=admin_actor(request), target=target, issuers=form.cleaned_data["issuers"]
        )
        for formset in formsets:  # the read-only inline saves nothing, but the change log reads it
            self.save_formset(request, form, formset, change=change)

    @admin.action(description="Export now", permissions=["export"])
    def export_now(self, request, queryset):
        actor = admin_actor(request)
        results = []
        for target in queryset:
            results += export_targets(actor=actor, target=target)
        report_exports(request, results)

    @admin.action(description="Check now", permissions=["view"])
    def check_now(self, request, queryset):
        for target in queryset:
            found = target_check(target)
            if not found:
                messages.success(request, f"{target.name}: in sync, nothing to report.")
            for finding in found:
                level = messages.ERROR if finding.severity == "error" else messages.WARNING
                messages.add_message(
                    request, level, f"{target.name}: {finding.message} Fix: {finding.fix}"
                )

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("keys.export_keys")
