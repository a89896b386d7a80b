from django import forms
from django.contrib import admin

from keys.admin.base import admin_actor
from keys.errors import PortalError
from keys.models import Issuer, KeyPair
from keys.services.issuers import (
    EDITABLE_FIELDS,
    issuer_check_new_name,
    issuer_create,
    issuer_update,
)


class IssuerForm(forms.ModelForm):
    class Meta:
        model = Issuer
        fields = ["name", *EDITABLE_FIELDS]

    def clean_name(self):
        name = self.cleaned_data["name"]
        if self.instance.pk is None:
            try:
                issuer_check_new_name(name)
            except PortalError as exc:
                raise forms.ValidationError(exc.message) from exc
        return name


class KeyPairInline(admin.TabularInline):
    model = KeyPair
    fields = ["kid", "bits", "status", "origin", "created_at", "retired_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Issuer)
class IssuerAdmin(admin.ModelAdmin):
    form = IssuerForm
    list_display = ["name", "iss", "audience", "iss_style", "is_active", "created_at"]
    list_filter = ["is_active", "audience", "iss_style"]
    search_fields = ["name", "description"]
    inlines = [KeyPairInline]

    def get_inlines(self, request, obj=None):
        return self.inlines if obj else []

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        # A new issuer starts active; disabling is a change.
        return fields if obj else [field for field in fields if field != "is_active"]

    def get_readonly_fields(self, request, obj=None):
        # The name is the key file and the `iss` of every token minted: fixed once created.
        return ["name", "created_by", "created_at"] if obj else []

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # disable instead: tokens and audit events refer to issuers

    def save_model(self, request, obj, form, change):
        actor = admin_actor(request)
        if change:
            changes = {field: form.cleaned_data[field] for field in form.changed_data}
            issuer_update(actor=actor, issuer=obj, **changes)
        else:
            created = issuer_create(
                actor=actor, **{field: form.cleaned_data[field] for field in form.fields}
            )
            obj.pk = created.pk
