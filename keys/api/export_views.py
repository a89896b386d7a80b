"""Downloads of the token list and of the audit log as CSV or JSON, with the lists' filters,
streamed (keys/reports.py): the first bytes leave at once and memory stays flat at any size."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.settings import api_settings

from keys import clock, reports
from keys.api.views import TOKEN_FILTER_PARAMETERS, PortalAPIView, token_filters
from keys.errors import InvalidInput
from keys.selectors import audit_event_list, token_list

FORMAT = "format"
FORMAT_PARAMETER = OpenApiParameter(
    FORMAT,
    str,
    enum=list(reports.EXPORT_FORMATS),
    default="csv",
    description="The file's format. CSV starts with a UTF-8 byte order mark, so that Excel "
    "reads it as UTF-8 (Python: open it with encoding='utf-8-sig'); a cell that a "
    "spreadsheet would run as a formula (starting with =, +, -, @, tab or CR) is prefixed "
    "with '. JSON is an array of objects.",
)
EXPORTED = OpenApiResponse(
    OpenApiTypes.STR, description="The file: CSV with a header row, or a JSON array of objects."
)
EXPORT_RESPONSES = {(200, "text/csv"): EXPORTED, (200, "application/json"): EXPORTED}
EXPORT_DESCRIPTION = (
    "Every row the filters select, unpaginated, as a download (Content-Disposition: "
    "attachment, with the time of the export in the file name; Cache-Control: no-store). "
    "The body is streamed: an error after its first bytes ends the transfer early instead of "
    "answering with an error status."
)


class _SettingsWithoutFormatOverride:
    """api_settings, except that no query parameter chooses the renderer."""

    URL_FORMAT_OVERRIDE = None

    def __getattr__(self, name):
        return getattr(api_settings, name)


class FileFormatNegotiation(DefaultContentNegotiation):
    """Here ``format`` names the file to write. DRF would take ``?format=csv`` as the choice of
    a renderer (URL_FORMAT_OVERRIDE) and answer 404, for want of a CSV one; and
    ``Accept: text/csv``, which a client may well send, would be a 406. The file is written
    whatever Accept says; only errors go through a renderer, as JSON when Accept matches
    none."""

    settings = _SettingsWithoutFormatOverride()

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except exceptions.NotAcceptable:
            return renderers[0], renderers[0].media_type


class ExportView(PortalAPIView):
    content_negotiation_class = FileFormatNegotiation

    @staticmethod
    def file_format(request, default: str = "csv") -> str:
        value = request.query_params.get(FORMAT) or default
        if value not in reports.EXPORT_FORMATS:
            raise InvalidInput(
                f"format must be one of {', '.join(reports.EXPORT_FORMATS)}, not {value!r}.",
                field=FORMAT,
            )
        return value


class TokenExportView(ExportView):
    required_perms = {"GET": "keys.view_issuedtoken"}
    error_statuses = {
        "GET": {
            400: "The format or a filter is not valid; `fields` names it.",
            404: "No issuer of that name.",
        }
    }

    @extend_schema(
        description=EXPORT_DESCRIPTION,
        parameters=[FORMAT_PARAMETER, *TOKEN_FILTER_PARAMETERS],
        responses=EXPORT_RESPONSES,
    )
    def get(self, request):
        file_format = self.file_format(request)
        now = clock.now()
        tokens = token_list(**token_filters(request.query_params), now=now)
        rows = reports.token_export_rows(tokens, now)
        return reports.export_response(
            rows, columns=reports.TOKEN_COLUMNS, file_format=file_format, stem="tokens", now=now
        )


class AuditEventExportView(ExportView):
    required_perms = {"GET": "keys.view_auditevent"}
    error_statuses = {"GET": {400: "The format is not valid."}}

    @extend_schema(
        description=EXPORT_DESCRIPTION,
        parameters=[
            FORMAT_PARAMETER,
            OpenApiParameter("action", str),
            OpenApiParameter("actor", str),
        ],
        responses=EXPORT_RESPONSES,
    )
    def get(self, request):
        file_format = self.file_format(request)
        events = audit_event_list(
            action=request.query_params.get("action"), actor=request.query_params.get("actor")
        )
        rows = reports.audit_rows(events.iterator(chunk_size=reports.ITERATOR_CHUNK_SIZE))
        return reports.export_response(
            rows,
            columns=reports.AUDIT_COLUMNS,
            file_format=file_format,
            stem="audit-events",
            now=clock.now(),
        )
