"""API tokens (knox) in the admin, in place of knox's own page, which put a new key in a message
(stored in the session), audited nothing and listed digests.

Every staff user creates and revokes their own tokens: a token acts with its user's role, so that
grants nothing new. A superuser sees everyone's and creates one for any active user. The key is
shown once, on the page that answers the create form. The digest, which is the primary key, is
shown nowhere either, not even in a URL or a checkbox: rows are named by their token_key."""

import secrets
from datetime import datetime, timedelta

import knox.admin  # noqa: F401  (registers knox's admin, replaced below, whatever the app order)
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.views.decorators.debug import sensitive_variables
from knox.crypto import hash_token
from knox.models import AuthToken

from keys import clock
from keys.admin.base import ShownOnce, admin_actor
from keys.admin.tokens import NONCE_PATTERN, new_nonce
from keys.durations import DurationError, format_duration, parse_duration
from keys.errors import PortalError
from keys.services.api_tokens import MAX_LIFETIME, api_token_create, api_token_revoke

User = get_user_model()

TEMPLATES = "admin/keys/apitoken"
NONCES_SESSION_KEY = "keys.api_token_nonces"
NONCES_KEPT = 50
ALREADY_SHOWN = (
    "This form already created API token {token_key}, and its key was shown once: it is not "
    "shown again. If the key was lost, revoke that token and create a new one."
)

admin.site.unregister(AuthToken)


def token_status(token: AuthToken, now: datetime) -> str:
    return "expired" if token.expiry is not None and token.expiry <= now else "active"


def token_label(token: AuthToken) -> str:
    return f"{token.token_key} of {token.user.get_username()}"


def may_manage(user, token: AuthToken | None = None) -> bool:
    """Staff manage their own tokens; superusers everyone's."""
    if not (user.is_active and user.is_staff):
        return False
    return token is None or user.is_superuser or token.user_id == user.pk


def token_owners(user):
    """Whom ``user`` may create a token for."""
    if user.is_superuser:
        return User.objects.filter(is_active=True).order_by(User.USERNAME_FIELD)
    return User.objects.filter(pk=user.pk, is_active=True)


# --- The create form -----------------------------------------------------------------------


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_username()


class CreateForm(forms.Form):
    nonce = forms.CharField(
        widget=forms.HiddenInput,
        error_messages={"required": "This form is incomplete: reload the page and try again."},
    )
    user = OwnerChoiceField(
        queryset=User.objects.none(),
        help_text="The token acts with this user's role. Only active users are offered.",
    )
    lifetime = forms.CharField(
        required=False,
        max_length=20,
        initial="90d",
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "e.g. 90d"}),
        help_text="A whole number of days, hours, minutes or seconds, e.g. 90d, 12h, 30m or "
        "3600. Empty: the token never expires.",
    )

    def __init__(self, *args, requester, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = token_owners(requester)
        self.fields["user"].initial = requester.pk
        if not requester.is_superuser:
            # Fixed to themselves: another user posted anyway is not a valid choice.
            self.fields["user"].widget = forms.HiddenInput()

    def clean_nonce(self):
        nonce = self.cleaned_data["nonce"]
        if not NONCE_PATTERN.match(nonce):
            raise forms.ValidationError("This form is damaged: reload the page and try again.")
        return nonce

    def clean_lifetime(self) -> timedelta | None:
        text = self.cleaned_data["lifetime"].strip()
        if not text:
            return None
        try:
            lifetime = parse_duration(text)
        except DurationError as exc:
            raise forms.ValidationError(str(exc)) from None
        if lifetime > MAX_LIFETIME:
            raise forms.ValidationError(
                f"At most {format_duration(MAX_LIFETIME)}; leave it empty for a token that "
                "never expires."
            )
        return lifetime


def created_with(request, nonce: str) -> str | None:
    """The token_key of the token this nonce created in this session, if it created one."""
    for seen, token_key in request.session.get(NONCES_SESSION_KEY, []):
        if secrets.compare_digest(seen, nonce):
            return token_key
    return None


def remember_creation(request, nonce: str, token_key: str) -> None:
    """Only the nonce and the token_key go into the session: never the key."""
    kept = request.session.get(NONCES_SESSION_KEY, [])
    request.session[NONCES_SESSION_KEY] = [*kept, [nonce, token_key]][-NONCES_KEPT:]


# --- The admin -----------------------------------------------------------------------------


@admin.register(AuthToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "token_key", "created", "expires", "status", "revoke_link"]
    list_display_links = None  # no change page to link to
    list_select_related = ["user"]
    search_fields = ["=token_key", f"user__{User.USERNAME_FIELD}"]
    ordering = ["-created"]
    show_full_result_count = False
    actions = ["revoke_selected"]
    change_list_template = f"{TEMPLATES}/change_list.html"

    def get_queryset(self, request):
        tokens = super().get_queryset(request).select_related("user")
        if request.user.is_superuser:
            return tokens
        return tokens.filter(user=request.user)

    def has_module_permission(self, request) -> bool:
        return may_manage(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return may_manage(request.user, obj)

    def has_add_permission(self, request) -> bool:
        return may_manage(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return may_manage(request.user, obj)

    # Columns.

    @admin.display(description="expires", ordering="expiry")
    def expires(self, obj: AuthToken):
        return obj.expiry or "never"

    @admin.display(description="status")
    def status(self, obj: AuthToken) -> str:
        status = token_status(obj, clock.now())
        return format_html('<span class="token-badge token-badge-{}">{}</span>', status, status)

    @admin.display(description="revoke")
    def revoke_link(self, obj: AuthToken) -> str:
        url = reverse("admin:knox_authtoken_revoke", args=[obj.token_key])
        return format_html('<a href="{}" class="deletelink">Revoke</a>', url)

    def action_checkbox(self, obj: AuthToken) -> str:
        # Django's names the row by its pk and str(), both of which hold the digest.
        checkbox = forms.CheckboxInput(
            {"class": "action-select", "aria-label": f"Select API token {token_label(obj)}"},
            lambda value: False,
        )
        return checkbox.render(helpers.ACTION_CHECKBOX_NAME, obj.token_key)

    # Pages. No change, delete or history page: a token is not edited, and Django's pages would
    # show its digest (the primary key, and knox's str()) and log it in the admin's LogEntry.

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name

        def view(function):
            return self.admin_site.admin_view(function)

        return [
            path("", view(self.changelist_view), name="{}_{}_changelist".format(*info)),
            path("add/", view(self.create_view), name="{}_{}_add".format(*info)),
            path(
                "<str:token_key>/revoke/",
                view(self.revoke_view),
                name="{}_{}_revoke".format(*info),
            ),
        ]

    def page_context(self, request, title: str, **context) -> dict:
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "changelist_url": reverse("admin:knox_authtoken_changelist"),
            **context,
        }

    # Creating.

    @sensitive_variables("key")
    def create_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return self.create_form_response(request, self.blank_form(request))
        nonce = request.POST.get("nonce", "")
        token_key = created_with(request, nonce) if nonce else None
        if token_key is not None:  # the form sent again, e.g. by reloading the result page
            messages.error(request, ALREADY_SHOWN.format(token_key=token_key))
            return self.create_form_response(request, self.blank_form(request))
        form = CreateForm(request.POST, requester=request.user)
        if not form.is_valid():
            if "nonce" in form.errors:  # give the corrected form a usable nonce
                form.data = form.data.copy()
                form.data["nonce"] = new_nonce()
            return self.create_form_response(request, form)
        key = api_token_create(
            actor=admin_actor(request),
            user=form.cleaned_data["user"],
            expires_in=form.cleaned_data["lifetime"],
        )
        token = AuthToken.objects.select_related("user").get(digest=hash_token(key))
        remember_creation(request, form.cleaned_data["nonce"], token.token_key)
        return self.create_result_response(request, key, token)

    def blank_form(self, request) -> CreateForm:
        return CreateForm(requester=request.user, initial={"nonce": new_nonce()})

    def create_form_response(self, request, form: CreateForm):
        context = self.page_context(
            request,
            "Create an API token",
            form=form,
            fixed_owner=None if request.user.is_superuser else request.user,
        )
        return TemplateResponse(request, f"{TEMPLATES}/create.html", context)

    @sensitive_variables()  # the key, and the context and response that hold it
    def create_result_response(self, request, key: str, token: AuthToken):
        """The one page that ever holds the key: rendered straight into this response, never
        stored, never cached."""
        context = self.page_context(
            request,
            "Your new API token",
            key=ShownOnce(key),
            authorization_header=ShownOnce(f"Authorization: Token {key}"),
            token=token,
            create_again_url=reverse("admin:knox_authtoken_add"),
        )
        response = TemplateResponse(request, f"{TEMPLATES}/create_result.html", context)
        add_never_cache_headers(response)
        response["Pragma"] = "no-cache"
        return response

    # Revoking: one token from its row, or the selected ones with the action. Both confirm
    # first, and both revoke through the service, which writes the audit event.

    def revoke_view(self, request, token_key: str):
        # Another user's token is not in the queryset: it does not exist for this user.
        tokens = list(self.get_queryset(request).filter(token_key=token_key))
        if not tokens:
            raise Http404("No such API token.")
        if not all(self.has_delete_permission(request, token) for token in tokens):
            raise PermissionDenied
        if request.method == "POST":
            self.revoke_and_report(request, tokens)
            return HttpResponseRedirect(reverse("admin:knox_authtoken_changelist"))
        return self.revoke_confirmation_response(request, tokens, bulk=False)

    @admin.action(description="Revoke the selected API tokens", permissions=["delete"])
    def revoke_selected(self, request, queryset):
        tokens = list(queryset.order_by("user__pk", "created"))
        if request.POST.get("post"):
            self.revoke_and_report(request, tokens)
            return None  # back to the list, with the messages
        return self.revoke_confirmation_response(request, tokens, bulk=True)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # it would delete without an audit event
        return actions

    def response_action(self, request, queryset):
        # The checkboxes carry token keys; Django's selects by primary key (the digest).
        token_keys = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if token_keys:
            digests = queryset.filter(token_key__in=token_keys).values_list("pk", flat=True)
            data = request.POST.copy()
            data.setlist(helpers.ACTION_CHECKBOX_NAME, list(digests))
            request.POST = data
        return super().response_action(request, queryset)

    def revoke_and_report(self, request, tokens: list[AuthToken]) -> None:
        actor = admin_actor(request)
        for token in tokens:
            try:
                api_token_revoke(actor=actor, token=token)
            except PortalError as exc:
                messages.error(request, f"API token {token_label(token)}: {exc.message}")
            else:
                messages.success(
                    request,
                    f"Revoked API token {token_label(token)}: requests with its key are "
                    "refused from now on.",
                )

    def revoke_confirmation_response(self, request, tokens: list[AuthToken], *, bulk: bool):
        now = clock.now()
        rows = [{"token": token, "status": token_status(token, now)} for token in tokens]
        context = self.page_context(
            request,
            "Revoke API tokens" if len(tokens) > 1 else "Revoke an API token",
            rows=rows,
            bulk=bulk,
            action_checkbox_name=helpers.ACTION_CHECKBOX_NAME,
        )
        return TemplateResponse(request, f"{TEMPLATES}/revoke_confirmation.html", context)

    # Django's own deletion paths, should anything reach them: through the service as well.

    def delete_model(self, request, obj: AuthToken) -> None:
        api_token_revoke(actor=admin_actor(request), token=obj)

    def delete_queryset(self, request, queryset) -> None:
        for token in queryset.select_related("user"):
            self.delete_model(request, token)
