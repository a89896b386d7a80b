"""The key jobs of an issuer's page: generate, import, rotate, export, private key download.
Each view checks its permission, parses a form, calls one service and says what happened."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from keys.admin.base import admin_actor, report_exports
from keys.errors import PortalError
from keys.models import Issuer
from keys.neuronex.profiles import RSA_KEY_SIZES
from keys.selectors import issuer_active_key, token_count_stopped_by_rotation
from keys.services.exports import export_targets
from keys.services.keypairs import (
    keypair_generate,
    keypair_import,
    keypair_private_pem,
    keypair_rotate,
)

BITS_CHOICES = [(bits, f"{bits} bits") for bits in RSA_KEY_SIZES]


class GenerateForm(forms.Form):
    bits = forms.TypedChoiceField(choices=BITS_CHOICES, coerce=int, initial=2048)


class ImportForm(forms.Form):
    file = forms.FileField(help_text="PEM private key: PKCS#1 (openssl genrsa) or PKCS#8.")
    passphrase = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Only if the key file is protected by one.",
    )
    replace = forms.BooleanField(
        required=False, label="Replace the active key (retire it, as a rotation)"
    )


class RotateForm(forms.Form):
    bits = forms.TypedChoiceField(choices=BITS_CHOICES, coerce=int)


class PrivateKeyForm(forms.Form):
    reason = forms.CharField(
        max_length=1000, help_text="Recorded in the audit log with your name and address."
    )


def _field_error(form: forms.Form, exc: PortalError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


class IssuerKeyViews:
    """Mixed into IssuerAdmin: the URLs and views of an issuer's key jobs."""

    def key_urls(self):
        def view(function):
            return self.admin_site.admin_view(never_cache(function))

        return [
            path("<int:pk>/generate/", view(self.generate_view), name="keys_issuer_generate"),
            path("<int:pk>/import/", view(self.import_view), name="keys_issuer_import"),
            path("<int:pk>/rotate/", view(self.rotate_view), name="keys_issuer_rotate"),
            path("<int:pk>/export/", view(self.export_view), name="keys_issuer_export"),
            path(
                "<int:pk>/private-key/", view(self.private_key_view), name="keys_issuer_private_key"
            ),
        ]

    # --- helpers ---------------------------------------------------------------------------

    def _issuer(self, request, pk: int, permission: str) -> Issuer:
        if not request.user.has_perm(permission):
            raise PermissionDenied
        return get_object_or_404(Issuer, pk=pk)

    def _back(self, issuer: Issuer) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:keys_issuer_change", args=[issuer.pk]))

    def _page(self, request, issuer: Issuer, template: str, title: str, **context):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": issuer,
            "issuer": issuer,
            "title": title,
            **context,
        }
        return TemplateResponse(request, f"admin/keys/issuer/{template}", context)

    # --- views -----------------------------------------------------------------------------

    def generate_view(self, request, pk: int):
        issuer = self._issuer(request, pk, "keys.add_keypair")
        form = GenerateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                key_pair = keypair_generate(
                    actor=admin_actor(request), issuer=issuer, bits=form.cleaned_data["bits"]
                )
            except PortalError as exc:
                _field_error(form, exc)
            else:
                messages.success(
                    request,
                    f"Generated a {key_pair.bits}-bit key pair for {issuer.name} "
                    f"(kid {key_pair.kid}).",
                )
                return self._back(issuer)
        return self._page(request, issuer, "key_generate.html", "Generate a key pair", form=form)

    # The passphrase stays out of error reports (Django's DEBUG page or its error mails).
    @method_decorator(sensitive_post_parameters("passphrase"))
    def import_view(self, request, pk: int):
        issuer = self._issuer(request, pk, "keys.add_keypair")
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                key_pair = keypair_import(
                    actor=admin_actor(request),
                    issuer=issuer,
                    pem=form.cleaned_data["file"].read(),
                    passphrase=form.cleaned_data["passphrase"] or None,
                    replace_active=form.cleaned_data["replace"],
                )
            except PortalError as exc:
                _field_error(form, exc)
            else:
                messages.success(
                    request,
                    f"Imported a {key_pair.bits}-bit key pair for {issuer.name} "
                    f"(kid {key_pair.kid}).",
                )
                return self._back(issuer)
        return self._page(request, issuer, "key_import.html", "Import a key pair", form=form)

    def rotate_view(self, request, pk: int):
        issuer = self._issuer(request, pk, "keys.add_keypair")
        try:
            current = issuer_active_key(issuer)
        except PortalError:
            current = None
        initial = {"bits": current.bits if current else 2048}
        form = RotateForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                key_pair = keypair_rotate(
                    actor=admin_actor(request), issuer=issuer, bits=form.cleaned_data["bits"]
                )
            except PortalError as exc:
                _field_error(form, exc)
            else:
                messages.success(
                    request,
                    f"Rotated {issuer.name}: key {key_pair.kid} ({key_pair.bits} bits) is active; "
                    "the old key is retired and its file replaced in the export folders.",
                )
                return self._back(issuer)
        return self._page(
            request,
            issuer,
            "rotate_confirm.html",
            f"Rotate the key of {issuer.name}",
            form=form,
            current=current,
            stopped=token_count_stopped_by_rotation(issuer),
        )

    def export_view(self, request, pk: int):
        issuer = self._issuer(request, pk, "keys.export_keys")
        if request.method != "POST":
            return self._back(issuer)
        report_exports(request, export_targets(actor=admin_actor(request)))
        return self._back(issuer)

    def private_key_view(self, request, pk: int):
        issuer = self._issuer(request, pk, "keys.download_private_key")
        try:
            key_pair = issuer_active_key(issuer)
        except PortalError as exc:
            messages.error(request, exc.message)
            return self._back(issuer)
        form = PrivateKeyForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            key_pair.refresh_from_db()  # issuer_active_key leaves the ciphertext out
            try:
                pem = keypair_private_pem(
                    actor=admin_actor(request),
                    key_pair=key_pair,
                    reason=form.cleaned_data["reason"],
                )
            except PortalError as exc:
                _field_error(form, exc)
            else:
                response = HttpResponse(pem, content_type="application/x-pem-file")
                response["Content-Disposition"] = (
                    f'attachment; filename="{issuer.name}-{key_pair.kid[:8]}.key"'
                )
                response["Cache-Control"] = "no-store"
                return response
        return self._page(
            request,
            issuer,
            "private_key_confirm.html",
            f"Download the private key of {issuer.name}",
            form=form,
            key_pair=key_pair,
        )
