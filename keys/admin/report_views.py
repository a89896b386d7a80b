"""The token expiry report page: keys.token_report's figures, each a link to the token list
filtered to exactly the tokens it counts, and keys.charts' two charts."""

from dataclasses import dataclass
from datetime import datetime

from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

from keys.admin.tokens import (
    STILL_ACCEPTED,
    TEMPLATES,
    ExpiresWithinFilter,
    SigningKeyFilter,
    StatusFilter,
)
from keys.charts import minted_revoked_chart, upcoming_expiries_chart
from keys.models import KeyPair
from keys.models.token import TokenStatus
from keys.token_report import ActivityWeek, ExpiryWeek, TokenFigures, token_report

STATUS = StatusFilter.parameter_name
WITHIN = ExpiresWithinFilter.parameter_name
ISSUER = "issuer__id__exact"  # the "issuer" list filter's parameter

# Each figure of TokenFigures: its column heading and the list filters that show its tokens.
COLUMNS = (
    ("active", "Active", {STATUS: TokenStatus.ACTIVE}),
    ("expiring_7d", "Expiring within 7 days", {WITHIN: "7d"}),
    ("expiring_30d", "Expiring within 30 days", {WITHIN: "30d"}),
    ("expired", "Expired", {STATUS: TokenStatus.EXPIRED}),
    ("revoked", "Revoked", {STATUS: TokenStatus.REVOKED}),
    ("revoked_still_accepted", "Revoked, still accepted by NeuronEX", {STATUS: STILL_ACCEPTED}),
    (
        "signed_by_retired_key",
        "Active, signed by a retired key",
        {STATUS: TokenStatus.ACTIVE, SigningKeyFilter.parameter_name: KeyPair.Status.RETIRED},
    ),
)


@dataclass(frozen=True)
class Figure:
    value: int
    url: str


class TokenList:
    """Links to the token list with filters. The page has a few hundred (every figure and chart
    cell): the list's address is reversed once, not per link."""

    def __init__(self):
        self.base = reverse("admin:keys_issuedtoken_changelist")

    def url(self, **params) -> str:
        return f"{self.base}?{urlencode(params)}" if params else self.base

    def figures_row(self, figures: TokenFigures, issuer_id: int | None = None) -> list[Figure]:
        scope = {ISSUER: issuer_id} if issuer_id is not None else {}
        return [
            Figure(getattr(figures, name), self.url(**params, **scope))
            for name, _, params in COLUMNS
        ]


def between(column: str, start: datetime, end: datetime) -> dict[str, str]:
    return {f"{column}__gte": start.isoformat(), f"{column}__lt": end.isoformat()}


def token_report_response(model_admin, request):
    report = token_report()
    token_list = TokenList()
    issuer_ids = {row.issuer: row.issuer_id for row in report.issuers}

    def expiring_in(week: ExpiryWeek, issuer: str | None) -> str | None:
        if issuer is not None and issuer not in issuer_ids:
            return None  # an issuer created while the report ran: see token_report
        scope = {ISSUER: issuer_ids[issuer]} if issuer is not None else {}
        return token_list.url(
            **{STATUS: TokenStatus.ACTIVE}, **between("exp", week.start, week.end), **scope
        )

    def activity_in(week: ActivityWeek, kind: str) -> str:
        column = "iat" if kind == "minted" else "revoked_at"
        return token_list.url(**between(column, week.start, week.end))

    try:
        api_url = reverse("api-report-tokens")
    except NoReverseMatch:
        api_url = None
    context = model_admin.page_context(
        request,
        "Token expiry report",
        report=report,
        columns=[heading for _, heading, _ in COLUMNS],
        issuer_rows=[
            {"issuer": row.issuer, "figures": token_list.figures_row(row.figures, row.issuer_id)}
            for row in report.issuers
        ],
        total_row=token_list.figures_row(report.total),
        longest=[
            {
                "token": token,
                "url": reverse("admin:keys_issuedtoken_change", args=[token.pk]),
            }
            for token in report.longest
        ],
        charts=[
            upcoming_expiries_chart(report, expiring_in),
            minted_revoked_chart(report, activity_in),
        ],
        api_url=api_url,
    )
    return TemplateResponse(request, f"{TEMPLATES}/report.html", context)
