"""The token expiry report as JSON, or its figures as CSV: keys.token_report, as the admin page
shows it."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from keys import reports
from keys.api.export_views import FORMAT, ExportView
from keys.token_report import token_report


class TokenReportFiguresSerializer(serializers.Serializer):
    active = serializers.IntegerField(help_text="Not revoked and exp > now.")
    expiring_7d = serializers.IntegerField(help_text="Active and exp <= now + 7 days.")
    expiring_30d = serializers.IntegerField(help_text="Active and exp <= now + 30 days.")
    expired = serializers.IntegerField(help_text="Not revoked and exp <= now.")
    revoked = serializers.IntegerField()
    revoked_still_accepted = serializers.IntegerField(
        help_text="Revoked, unexpired, and signed by a key still in force (the issuer's active "
        "key or a key file still in an export folder): NeuronEX has no deny-list."
    )
    signed_by_retired_key = serializers.IntegerField(
        help_text="Active tokens whose signing key is no longer the issuer's active key."
    )


class TokenReportIssuerSerializer(TokenReportFiguresSerializer):
    issuer = serializers.CharField()


class TokenReportLongestSerializer(serializers.Serializer):
    jti = serializers.UUIDField()
    issuer = serializers.CharField()
    label = serializers.CharField()
    exp = serializers.DateTimeField()
    remaining_seconds = serializers.IntegerField()


class TokenReportExpiryWeekSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="Monday 00:00 UTC.")
    end = serializers.DateTimeField(help_text="The next Monday 00:00 UTC (excluded).")
    total = serializers.IntegerField()
    by_issuer = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Issuer name to count; issuers with none left out.",
    )


class TokenReportActivityWeekSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="Monday 00:00 UTC.")
    end = serializers.DateTimeField(help_text="The next Monday 00:00 UTC (excluded).")
    minted = serializers.IntegerField()
    revoked = serializers.IntegerField()


class TokenReportSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField(help_text="The instant all figures refer to.")
    issuers = TokenReportIssuerSerializer(many=True)
    total = TokenReportFiguresSerializer()
    longest_remaining = TokenReportLongestSerializer(
        many=True, help_text="The 10 active tokens that expire last."
    )
    upcoming_expiries = TokenReportExpiryWeekSerializer(
        many=True,
        help_text="Active tokens per week of expiry: 26 weeks, the current one (its remaining "
        "days) first.",
    )
    minted_revoked = TokenReportActivityWeekSerializer(
        many=True, help_text="Tokens minted and revoked per week: 26 weeks, the current one last."
    )


class TokenReportView(ExportView):
    """Per issuer and in total: tokens active, expiring within 7 and 30 days, expired, revoked,
    revoked but still accepted by NeuronEX, and signed by a retired key; the longest remaining
    lifetimes; expiries per week ahead and minting and revocations per week past.

    ``?format=csv``: the figures alone, one row per issuer and a last row "all", as a download
    (the same file as ``audit_tokens --report --format csv``)."""

    required_perms = {"GET": "keys.view_issuedtoken"}
    error_statuses = {"GET": {400: "The format is not valid."}}

    @extend_schema(
        parameters=[
            OpenApiParameter(
                FORMAT,
                str,
                enum=list(reports.EXPORT_FORMATS),
                default="json",
                description="json: the whole report. csv: the figures per issuer and in "
                "total, as a download with a UTF-8 byte order mark.",
            )
        ],
        responses={
            (200, "application/json"): TokenReportSerializer,
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="CSV: a header row, a row per issuer, then all."
            ),
        },
    )
    def get(self, request):
        file_format = self.file_format(request, default="json")
        report = token_report()
        if file_format == "csv":
            return reports.export_response(
                reports.report_rows(report),
                columns=reports.REPORT_COLUMNS,
                file_format="csv",
                stem="token-report",
                now=report.now,
            )
        return Response(TokenReportSerializer(report.as_dict()).data)
