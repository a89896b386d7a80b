from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html

from keys.admin.base import admin_actor, report_exports
from keys.admin.issuer_views import IssuerKeyViews
from keys.bundles import PEM_CONTENT_TYPE, public_keys_zip
from keys.errors import PortalError
from keys.models import Issuer, KeyPair
from keys.selectors import (
    issuer_active_key,
    issuer_export_state,
    issuer_token_counts,
)
from keys.services.exports import export_targets
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
class IssuerAdmin(IssuerKeyViews, admin.ModelAdmin):
    form = IssuerForm
    list_display = ["name", "iss", "audience", "iss_style", "is_active", "public_key"]
    actions = ["export_now"]
    list_filter = ["is_active", "audience", "iss_style"]
    search_fields = ["name", "description"]
    inlines = [KeyPairInline]

    def get_inlines(self, request, obj=None):
        return self.inlines if obj else []

    def get_fields(self, request, obj=None):
        if obj is None:  # a new issuer starts active; disabling is a change
            return ["name", *(field for field in EDITABLE_FIELDS if field != "is_active")]
        return ["name", *EDITABLE_FIELDS, "created_by", "created_at"]

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

    def get_urls(self):
        own = [
            path(
                "<int:pk>/public.pem",
                self.admin_site.admin_view(self.public_pem_view),
                name="keys_issuer_public_pem",
            ),
            path(
                "public-keys.zip",
                self.admin_site.admin_view(self.public_keys_zip_view),
                name="keys_issuer_public_keys_zip",
            ),
        ]
        return own + self.key_urls() + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        issuer = self.get_object(request, object_id)
        context = {**(extra_context or {})}
        if issuer is not None:
            user = request.user
            context.update(
                active_key=KeyPair.objects.filter(issuer=issuer, status=KeyPair.Status.ACTIVE)
                .defer("private_key_encrypted")
                .first(),
                token_counts=issuer_token_counts(issuer),
                export_state=issuer_export_state(issuer),
                can_manage_keys=user.has_perm("keys.add_keypair"),
                can_export=user.has_perm("keys.export_keys"),
                can_download_private=user.has_perm("keys.download_private_key"),
                can_mint=user.has_perm("keys.mint_token"),
                mint_url=_mint_url(),
            )
        return super().change_view(request, object_id, form_url, context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "public_keys_zip_url": reverse("admin:keys_issuer_public_keys_zip"),
        }
        return super().changelist_view(request, extra_context)

    @admin.display(description="public key")
    def public_key(self, obj: Issuer):
        url = reverse("admin:keys_issuer_public_pem", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.key_file_name)

    def public_pem_view(self, request, pk: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        issuer = get_object_or_404(Issuer, pk=pk)
        try:
            key_pair = issuer_active_key(issuer)
        except PortalError as exc:
            raise Http404(exc.message) from exc
        response = HttpResponse(key_pair.public_pem, content_type=PEM_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{issuer.key_file_name}"'
        return response

    def public_keys_zip_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        response = HttpResponse(public_keys_zip(), content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="neuronex-public-keys.zip"'
        return response

    @admin.action(description="Export public keys now", permissions=["export"])
    def export_now(self, request, queryset):
        report_exports(request, export_targets(actor=admin_actor(request)))

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("keys.export_keys")


def _mint_url() -> str | None:
    try:
        return reverse("admin:keys_issuedtoken_mint")
    except NoReverseMatch:
        return None
