"""Issued tokens in the admin: the list with status badges and filters, the mint page that shows
a token exactly once, and the revoke action that says what a revocation does not do (rule 6 of
neuronex-compat.md: no verifier has a deny-list)."""

import copy
import itertools
import re
import secrets
from datetime import datetime, timedelta
from functools import cached_property

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AdminRadioSelect, AdminSplitDateTime
from django.core.exceptions import PermissionDenied
from django.db.models import F, Max, Min
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.translation import gettext

from keys import clock
from keys.admin.base import ReadOnlyAdmin, ShownOnce, admin_actor
from keys.admin.export_views import export_urls
from keys.counting import select_scalars
from keys.durations import DurationError, format_duration, parse_duration
from keys.errors import PortalError
from keys.models import IssuedToken, Issuer, KeyPair
from keys.models.token import IssuedTokenQuerySet, TokenStatus
from keys.neuronex.claims import authorization_header
from keys.neuronex.profiles import AUD_EKUIPER
from keys.neuronex.revocation import revocation_notice
from keys.selectors import exported_kids, token_accepted_until, token_count_stopped_by_rotation
from keys.services.tokens import (
    MAX_LABEL_LENGTH,
    MAX_REASON_LENGTH,
    clean_text,
    token_mint,
    token_revoke,
)

TEMPLATES = "admin/keys/issuedtoken"
STILL_ACCEPTED = "still_accepted"  # the dashboard links to ?status=still_accepted
ALREADY_SHOWN = (
    "This token was already shown once and is not shown again; mint a new one if it was lost."
)
NEURONEX_API_EXAMPLE = "http://<neuronex-host>:8085/api/..."


# --- What one page knows about "now" -------------------------------------------------------


class PageState:
    """One instant and one read of the exported keys per request, shared by the filters and
    every row, so that a page is consistent and costs no query per row."""

    def __init__(self):
        self.now = clock.now()

    @cached_property
    def exported(self) -> set[str]:
        return exported_kids()


def page_state(request) -> PageState:
    state = getattr(request, "_issued_token_page_state", None)
    if state is None:
        state = PageState()
        request._issued_token_page_state = state
    return state


def badge(token: IssuedToken, now: datetime, accepted_until: datetime | None) -> str:
    """The status badge: active, expired, revoked, or revoked but still accepted by NeuronEX."""
    status = token.status_at(now)
    if status == TokenStatus.REVOKED and accepted_until is not None:
        return format_html(
            '<span class="token-badge token-badge-revoked-accepted" title="{}">{}</span>',
            f"Revoked, but NeuronEX still accepts it until {accepted_until:%Y-%m-%d %H:%M:%S} "
            "UTC or until the issuer's key is rotated and exported.",
            "revoked, still accepted",
        )
    return format_html(
        '<span class="token-badge token-badge-{}">{}</span>', status.value, status.value
    )


# --- The list ------------------------------------------------------------------------------


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*TokenStatus.choices, (STILL_ACCEPTED, "Revoked, still accepted by NeuronEX")]

    def queryset(self, request, queryset):
        state = page_state(request)
        if self.value() == STILL_ACCEPTED:
            return queryset.revoked_still_accepted(state.exported, state.now)
        if self.value() in TokenStatus.values:
            return queryset.with_status(self.value(), state.now)
        return queryset


class ExpiresWithinFilter(admin.SimpleListFilter):
    title = "expires within"
    parameter_name = "expires_within"
    windows = {"7d": "7 days", "30d": "30 days"}

    def lookups(self, request, model_admin):
        return list(self.windows.items())

    def queryset(self, request, queryset):
        if self.value() in self.windows:
            window = parse_duration(self.value())
            return queryset.expiring_within(window, page_state(request).now)
        return queryset


class SigningKeyFilter(admin.SimpleListFilter):
    """With status=active: the tokens that rotation has left on a retired key."""

    title = "signing key"
    parameter_name = "signing_key"

    def lookups(self, request, model_admin):
        return [
            (KeyPair.Status.ACTIVE, "The issuer's active key"),
            (KeyPair.Status.RETIRED, "A retired key"),
        ]

    def queryset(self, request, queryset):
        if self.value() in KeyPair.Status.values:
            return queryset.filter(key_pair__status=self.value())
        return queryset


class DrillDownQuerySet(IssuedTokenQuerySet):
    """The list's queryset, with the date drill-down's two questions answered by index probes.

    The drill-down (date_hierarchy on exp) first asks the range, ``MIN(exp), MAX(exp)``: SQLite
    only answers a lone MIN or MAX from an index, and reads every row for both (0.18 s at a
    million tokens). Here they are two index lookups. It then lists the years, months or days
    that hold a token: Django asks ``SELECT DISTINCT <exp truncated>`` over every selected row,
    3.4 s on SQLite (a Python function per row) and 0.35 s on PostgreSQL (bench/audit.py). Here
    one query asks EXISTS for each period between the first and last exp: the same periods, a
    few index probes."""

    MAX_PERIODS = 400

    def aggregate(self, *args, **kwargs):
        column = min_max_column(kwargs) if not args else None
        if column is None:
            return super().aggregate(*args, **kwargs)
        first, last = self.first_and_last(column)
        return {"first": first, "last": last}

    def first_and_last(self, field_name: str):
        """The smallest and largest non-null values of a column, asked once per queryset (the
        drill-down asks for the range, then for the periods)."""
        cache = self.__dict__.setdefault("_first_and_last", {})
        if field_name not in cache:
            present = (
                self.order_by()
                .filter(**{f"{field_name}__isnull": False})
                .values_list(field_name, flat=True)
            )
            cache[field_name] = (
                present.order_by(field_name).first(),
                present.order_by(f"-{field_name}").first(),
            )
        return cache[field_name]

    def datetimes(self, field_name, kind, order="ASC", tzinfo=None):
        if kind not in ("year", "month", "day") or order != "ASC" or self.query.is_sliced:
            return super().datetimes(field_name, kind, order, tzinfo)
        tz = tzinfo or timezone.get_current_timezone()
        first, last = self.first_and_last(field_name)
        if first is None:
            return []
        starts = periods(first.astimezone(tz), last.astimezone(tz), kind, tz)
        if len(starts) > self.MAX_PERIODS:
            return super().datetimes(field_name, kind, order, tzinfo)
        unordered = self.order_by()
        probes = [
            unordered.filter(**{f"{field_name}__gte": start, f"{field_name}__lt": end}).values(
                "pk"
            )[:1]
            for start, end in itertools.pairwise(starts)
        ]
        found = select_scalars(probes, template="EXISTS({})")
        return [start for start, hit in zip(starts, found, strict=False) if hit]


def min_max_column(aggregates: dict) -> str | None:
    """The column of the drill-down's ``aggregate(first=Min(c), last=Max(c))``, else None."""
    first, last = aggregates.get("first"), aggregates.get("last")
    if aggregates.keys() != {"first", "last"} or type(first) is not Min or type(last) is not Max:
        return None
    sources = [*first.source_expressions, *last.source_expressions]
    if first.filter or last.filter or first.default is not None or last.default is not None:
        return None
    if len(sources) != 2 or not all(isinstance(source, F) for source in sources):
        return None
    if sources[0].name != sources[1].name:
        return None
    return sources[0].name


def periods(first: datetime, last: datetime, kind: str, tz) -> list[datetime]:
    """The starts of the periods from the one holding ``first`` to the one after ``last``."""
    if kind == "year":
        return [datetime(year, 1, 1, tzinfo=tz) for year in range(first.year, last.year + 2)]
    if kind == "month":
        months = range(first.year * 12 + first.month - 1, last.year * 12 + last.month + 1)
        return [datetime(m // 12, m % 12 + 1, 1, tzinfo=tz) for m in months]
    day = datetime(first.year, first.month, first.day, tzinfo=tz)
    days = (last.date() - first.date()).days + 2
    return [
        datetime.combine(day.date() + timedelta(days=n), datetime.min.time(), tzinfo=tz)
        for n in range(days)
    ]


class TokenChangeList(ChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        queryset = queryset._chain()
        queryset.__class__ = DrillDownQuerySet  # see there: only datetimes() differs
        return queryset

    def get_results(self, request):
        super().get_results(request)
        state = page_state(request)
        for token in self.result_list:
            token.accepted_until = (
                token_accepted_until(token, state.now, state.exported)
                if token.revoked_at is not None
                else None
            )
            token.badge = badge(token, state.now, token.accepted_until)


# --- The mint form -------------------------------------------------------------------------

CUSTOM = "custom"
LIFETIME_CHOICES = [
    ("1d", "1 day"),
    ("30d", "30 days"),
    ("90d", "90 days"),
    ("365d", "1 year"),
    (CUSTOM, "custom"),
]
NONCE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
NONCES_SESSION_KEY = "keys.mint_nonces"
NONCES_KEPT = 50


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def issuer_choice_label(issuer: Issuer) -> str:
    return (
        f"{issuer.name} (iss {issuer.iss}, aud {issuer.audience}, "
        f"at most {format_duration(issuer.max_ttl)})"
    )


class IssuerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Issuer) -> str:
        return issuer_choice_label(obj)


class MintForm(forms.Form):
    nonce = forms.CharField(
        widget=forms.HiddenInput,
        error_messages={"required": "This form is incomplete: reload the page and try again."},
    )
    issuer = IssuerChoiceField(
        queryset=Issuer.objects.all(),
        help_text="Only active issuers are offered.",
    )
    label = forms.CharField(
        max_length=MAX_LABEL_LENGTH,
        widget=forms.TextInput(attrs={"class": "vTextField", "autocomplete": "off"}),
        help_text="What the token is for, e.g. “line 3 SCADA”: shown in every list and report.",
    )
    lifetime = forms.ChoiceField(
        choices=LIFETIME_CHOICES,
        initial="90d",
        widget=AdminRadioSelect(attrs={"class": "radiolist inline"}),
    )
    ttl = forms.CharField(
        label="Custom lifetime",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "e.g. 12h"}),
        help_text="With “custom”: a whole number of days, hours, minutes or seconds, e.g. "
        "45d, 12h, 30m or 3600.",
    )
    expires_at = forms.SplitDateTimeField(
        label="Or expires at",
        required=False,
        widget=AdminSplitDateTime,
        help_text="With “custom”, instead of a lifetime: date and time in UTC.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only active issuers are offered. Any issuer is accepted, so that a disabled one posted
        # anyway reaches the service, which says why it mints nothing.
        active = list(Issuer.objects.filter(is_active=True))
        self.fields["issuer"].widget.choices = [
            ("", "---------"),
            *((issuer.pk, issuer_choice_label(issuer)) for issuer in active),
        ]
        if len(active) == 1 and not self.is_bound and not self.initial.get("issuer"):
            self.initial["issuer"] = active[0].pk
        self.fields["expires_at"].help_text = (
            "With “custom”, instead of a lifetime: date and time in "
            f"{timezone.get_current_timezone_name()}."
        )

    def clean_nonce(self):
        nonce = self.cleaned_data["nonce"]
        if not NONCE_PATTERN.match(nonce):
            raise forms.ValidationError("This form is damaged: reload the page and try again.")
        return nonce

    def clean(self):
        data = super().clean()
        data["ttl_value"] = data["expires_value"] = None
        lifetime = data.get("lifetime")
        ttl_text = (data.get("ttl") or "").strip()
        expires_at = data.get("expires_at")
        if lifetime == CUSTOM:
            if ttl_text:
                try:
                    data["ttl_value"] = parse_duration(ttl_text)
                except DurationError as exc:
                    self.add_error("ttl", str(exc))
            elif expires_at is None and "expires_at" not in self.errors:
                self.add_error(
                    "ttl",
                    "With a custom lifetime, give a duration such as 12h, or an expiry date "
                    "and time.",
                )
            data["expires_value"] = expires_at
        elif lifetime:
            if ttl_text or expires_at is not None:
                self.add_error(
                    "lifetime",
                    "A custom lifetime or expiry time is filled in: choose “custom” to use it, "
                    "or clear it.",
                )
            else:
                data["ttl_value"] = parse_duration(lifetime)
        return data

    def add_service_error(self, exc: PortalError) -> None:
        """Show a service's refusal on the field it names; one this form lacks, above it."""
        field = exc.field
        if field == "ttl" and self.cleaned_data.get("lifetime") != CUSTOM:
            field = "lifetime"  # the preset the person chose
        self.add_error(field if field in self.fields else None, exc.message)


def used_nonce(request, nonce: str) -> str | None:
    """The jti minted with this nonce in this session, if it was used."""
    for seen, jti in request.session.get(NONCES_SESSION_KEY, []):
        if secrets.compare_digest(seen, nonce):
            return jti
    return None


def remember_nonce(request, nonce: str, jti: str) -> None:
    """Only the nonce and the token's public id go into the session: never the token."""
    kept = request.session.get(NONCES_SESSION_KEY, [])
    request.session[NONCES_SESSION_KEY] = [*kept, [nonce, jti]][-NONCES_KEPT:]


# --- The admin -----------------------------------------------------------------------------


@admin.register(IssuedToken)
class IssuedTokenAdmin(ReadOnlyAdmin):
    list_display = ["jti", "label", "issuer", "status", "exp", "minted_by_name", "channel"]
    list_filter = [StatusFilter, ExpiresWithinFilter, "issuer", SigningKeyFilter, "channel"]
    list_select_related = ["issuer", "key_pair"]
    search_fields = ["=jti", "label"]
    date_hierarchy = "exp"
    ordering = ["exp"]
    show_full_result_count = False
    # Each row costs about 0.3 ms of admin rendering: 50 keep the expiring-soon list under
    # 50 ms at a million tokens (bench/audit.py), 100 did not.
    list_per_page = 50
    actions = ["revoke_tokens"]
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
    readonly_fields = [*fields, "neuronex_accepts"]

    def get_queryset(self, request):
        # The encrypted private key of the signing key is never needed here.
        return (
            super()
            .get_queryset(request)
            .select_related("issuer", "key_pair")
            .defer("key_pair__private_key_encrypted")
        )

    def get_changelist(self, request, **kwargs):
        return TokenChangeList

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if obj is not None and obj.revoked_at is not None:
            fields.insert(fields.index("status") + 1, "neuronex_accepts")
        return fields

    # Columns and read-only fields.

    def action_checkbox(self, obj: IssuedToken) -> str:
        """Django's checkbox, without rendering a widget template for each row (a fifth of the
        list's time at 100 rows)."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(gettext("Select this object for an action - {}"), str(obj)),
        )

    @admin.display(description="status")
    def status(self, obj: IssuedToken) -> str:
        if hasattr(obj, "badge"):  # a list row: computed once for the page
            return obj.badge
        now = clock.now()
        return badge(obj, now, token_accepted_until(obj, now))

    @admin.display(description="NeuronEX accepts it")
    def neuronex_accepts(self, obj: IssuedToken) -> str:
        return revocation_notice(token_accepted_until(obj, clock.now()))

    # Pages.

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        own = [
            path(
                "mint/",
                self.admin_site.admin_view(self.mint_view),
                name="{}_{}_mint".format(*info),
            ),
            path(
                "report/",
                self.admin_site.admin_view(self.report_view),
                name="{}_{}_report".format(*info),
            ),
            *export_urls(self),
        ]
        return own + super().get_urls()  # before "<path:object_id>/", which would match "mint/"

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_mint": self.has_mint_permission(request),
            "mint_url": reverse("admin:keys_issuedtoken_mint"),
        }
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        rotation = None
        revoked = obj is not None and obj.revoked_at is not None
        if revoked and token_accepted_until(obj, clock.now()) is not None:
            rotation = self.rotation_offer(request, obj.issuer)
        extra_context = {**(extra_context or {}), "rotation": rotation}
        return super().change_view(request, object_id, form_url, extra_context)

    def has_mint_permission(self, request) -> bool:
        return request.user.has_perm("keys.mint_token")

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("keys.revoke_token")

    def rotation_offer(self, request, issuer: Issuer) -> dict:
        """Where to rotate the issuer's key, if this user may and the page exists."""
        url = None
        if request.user.has_perm("keys.change_issuer"):
            try:
                url = reverse("admin:keys_issuer_rotate", args=[issuer.pk])
            except NoReverseMatch:
                url = None
        return {"issuer": issuer, "url": url}

    def page_context(self, request, title: str, **context) -> dict:
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "changelist_url": reverse("admin:keys_issuedtoken_changelist"),
            **context,
        }

    def report_view(self, request):
        # Imported here: report_views builds its links from this module's filters.
        from keys.admin.report_views import token_report_response

        if not self.has_view_permission(request):
            raise PermissionDenied
        return token_report_response(self, request)

    # Minting.

    def mint_view(self, request):
        if not self.has_mint_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            issuer = request.GET.get("issuer", "")
            initial = {"nonce": new_nonce(), "issuer": issuer if issuer.isdigit() else None}
            return self.mint_form_response(request, MintForm(initial=initial))

        nonce = request.POST.get("nonce", "")
        jti = used_nonce(request, nonce) if nonce else None
        if jti is not None:
            return self.already_shown_response(request, jti)
        form = MintForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                minted = token_mint(
                    actor=admin_actor(request),
                    issuer=data["issuer"],
                    label=data["label"],
                    ttl=data["ttl_value"],
                    expires_at=data["expires_value"],
                )
            except PortalError as exc:
                form.add_service_error(exc)
            else:
                remember_nonce(request, data["nonce"], str(minted.record.jti))
                return self.mint_result_response(request, minted)
        if "nonce" in form.errors:  # give the corrected form a usable nonce
            form.data = form.data.copy()
            form.data["nonce"] = new_nonce()
        return self.mint_form_response(request, form)

    def mint_form_response(self, request, form: MintForm):
        context = self.page_context(
            request,
            "Mint a token",
            form=form,
            media=self.media + form.media,
        )
        return TemplateResponse(request, f"{TEMPLATES}/mint.html", context)

    def already_shown_response(self, request, jti: str):
        record = IssuedToken.objects.select_related("issuer").filter(jti=jti).first()
        if record is not None:
            url = reverse("admin:keys_issuedtoken_change", args=[record.pk])
            link = format_html(
                '<a href="{}" id="already-shown-record">See the record of token {} ({})</a>.',
                url,
                record.jti,
                record.label,
            )
            messages.error(request, format_html("{} {}", ALREADY_SHOWN, link))
        else:
            messages.error(request, ALREADY_SHOWN)
        issuer = request.POST.get("issuer", "")
        initial = {"nonce": new_nonce(), "issuer": issuer if issuer.isdigit() else None}
        return self.mint_form_response(request, MintForm(initial=initial))

    def mint_result_response(self, request, minted):
        """The one page that ever holds the token: rendered straight into this response, never
        stored, never cached."""
        for warning in minted.warnings:
            messages.warning(request, warning)
        record = minted.record
        header = authorization_header(minted.token, record.issuer.audience)
        context = self.page_context(
            request,
            "Your new token",
            token=ShownOnce(minted.token),
            authorization_header=ShownOnce(f"Authorization: {header}"),
            curl_example=ShownOnce(f'curl -H "Authorization: {header}" {NEURONEX_API_EXAMPLE}'),
            bare_token_note=record.issuer.audience == AUD_EKUIPER,
            record=record,
            record_url=reverse("admin:keys_issuedtoken_change", args=[record.pk]),
            mint_again_url=(f"{reverse('admin:keys_issuedtoken_mint')}?issuer={record.issuer_id}"),
        )
        response = TemplateResponse(request, f"{TEMPLATES}/mint_result.html", context)
        add_never_cache_headers(response)
        response["Pragma"] = "no-cache"
        return response

    # Revoking.

    @admin.action(description="Revoke the selected tokens", permissions=["revoke"])
    def revoke_tokens(self, request, queryset):
        tokens = list(queryset.order_by("issuer__name", "exp", "pk"))
        reason, reason_error = request.POST.get("reason", ""), None
        if request.POST.get("post"):
            try:
                reason = clean_text(reason, field="reason", max_length=MAX_REASON_LENGTH)
            except PortalError as exc:
                reason_error = exc.message
            else:
                self.revoke_and_report(request, tokens, reason)
                return None  # back to the list, with the messages
        return self.revoke_confirmation_response(request, tokens, reason, reason_error)

    def revoke_and_report(self, request, tokens: list[IssuedToken], reason: str) -> None:
        actor = admin_actor(request)
        now = clock.now()
        exported = exported_kids()
        still_accepted: dict[int, list[IssuedToken]] = {}
        for token in tokens:
            try:
                revoked = token_revoke(actor=actor, token=token, reason=reason)
            except PortalError as exc:
                messages.error(request, f"Token {token.jti} ({token.label}): {exc.message}")
                continue
            revoked.issuer, revoked.key_pair = token.issuer, token.key_pair  # loaded already
            until = token_accepted_until(revoked, now, exported)
            messages.success(
                request,
                f"Revoked token {revoked.jti} ({revoked.label}, issuer {token.issuer.name}). "
                f"{revocation_notice(until)}",
            )
            if until is not None:
                still_accepted.setdefault(token.issuer_id, []).append(token)
        for accepted in still_accepted.values():
            issuer = accepted[0].issuer
            offer = self.rotation_offer(request, issuer)
            text = (
                f"{len(accepted)} revoked token(s) of issuer {issuer.name} stay accepted by "
                "NeuronEX until they expire, or until its key is rotated and the new public "
                "key exported."
            )
            if offer["url"]:
                message = format_html(
                    '{} <a href="{}">Rotate the key of {}</a>.', text, offer["url"], issuer.name
                )
            else:
                message = f"{text} Ask a key administrator to rotate it."
            messages.warning(request, message)

    def revoke_confirmation_response(self, request, tokens, reason, reason_error):
        now = clock.now()
        exported = exported_kids()
        rows, issuers = [], {}
        for token in tokens:
            if token.revoked_at is not None:
                until = token_accepted_until(token, now, exported)
            else:  # as it would be once revoked now
                revoked = copy.copy(token)
                revoked.revoked_at = now
                until = token_accepted_until(revoked, now, exported)
            rows.append(
                {
                    "token": token,
                    "badge": badge(token, now, until if token.revoked_at else None),
                    "accepted_until": until,
                }
            )
            entry = issuers.setdefault(
                token.issuer_id, {"issuer": token.issuer, "count": 0, "accepted": []}
            )
            entry["count"] += 1
            if until is not None:
                entry["accepted"].append(until)
        for entry in issuers.values():
            if entry["accepted"]:
                entry["last_accepted"] = max(entry["accepted"])
                entry["stopped_by_rotation"] = token_count_stopped_by_rotation(entry["issuer"], now)
                entry["rotation"] = self.rotation_offer(request, entry["issuer"])
        context = self.page_context(
            request,
            "Revoke tokens",
            rows=rows,
            issuers=list(issuers.values()),
            reason=reason,
            reason_error=reason_error,
            max_reason_length=MAX_REASON_LENGTH,
            action_checkbox_name=helpers.ACTION_CHECKBOX_NAME,
            media=self.media,
        )
        return TemplateResponse(request, f"{TEMPLATES}/revoke_confirmation.html", context)
