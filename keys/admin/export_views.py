"""The changelists' "Export CSV" and "Export JSON": every row that the list's filters, search,
date drill-down and sort select, not only the page shown, streamed (keys/reports.py).

The rows come from the ModelAdmin's own changelist, so a filter added to ``list_filter``
applies to the export with no change here."""

import copy
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpResponseRedirect
from django.urls import URLPattern, path, reverse

from keys import clock, reports
from keys.models import AuditEvent, IssuedToken


def token_rows(request, tokens: QuerySet) -> Iterator[dict]:
    # Imported here: keys.admin.tokens imports this module for its URLs.
    from keys.admin.tokens import page_state

    # The instant the status filter used, so that a row it selected as active says active.
    now = page_state(request).now
    return reports.token_export_rows(tokens, now)


def audit_rows(request, events: QuerySet) -> Iterator[dict]:
    return reports.audit_rows(events.iterator(chunk_size=reports.ITERATOR_CHUNK_SIZE))


@dataclass(frozen=True)
class Export:
    stem: str  # of the file name
    columns: tuple[str, ...]
    rows: Callable[[object, QuerySet], Iterator[dict]]


EXPORTS = {
    IssuedToken: Export("tokens", reports.TOKEN_COLUMNS, token_rows),
    AuditEvent: Export("audit-events", reports.AUDIT_COLUMNS, audit_rows),
}


def _no_results(changelist, request) -> None:
    """The export reads every row itself: the page's count and rows would be queries for
    nothing, and the count of a large table would hold back the first byte."""


@functools.cache
def _export_changelist(base: type) -> type:
    return type(f"Export{base.__name__}", (base,), {"get_results": _no_results})


def changelist_queryset(model_admin, request) -> QuerySet:
    """What the changelist at ``request``'s query string lists, in its order, unpaginated.

    May raise IncorrectLookupParameters, as the changelist does."""
    export_class = _export_changelist(model_admin.get_changelist(request))
    # A copy per request, so that the admin shared by every thread is never changed.
    exporting = copy.copy(model_admin)
    exporting.get_changelist = lambda request, **kwargs: export_class
    return exporting.get_changelist_instance(request).queryset


def export_view(request, model_admin, file_format: str):
    if file_format not in reports.EXPORT_FORMATS:
        raise Http404(f"No export as {file_format!r}.")
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    try:
        queryset = changelist_queryset(model_admin, request)
    except IncorrectLookupParameters:
        # As the changelist answers a filter it cannot apply: the list, saying so.
        opts = model_admin.opts
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        return HttpResponseRedirect(f"{url}?{ERROR_FLAG}=1")
    export = EXPORTS[model_admin.model]
    return reports.export_response(
        export.rows(request, queryset),
        columns=export.columns,
        file_format=file_format,
        stem=export.stem,
        now=clock.now(),
    )


def export_urls(model_admin) -> list[URLPattern]:
    """``export/csv/`` and ``export/json/``, named ``<app>_<model>_export``; to go before the
    ModelAdmin's own URLs, whose ``<path:object_id>/`` would take them."""

    def view(request, file_format: str):
        return export_view(request, model_admin, file_format)

    opts = model_admin.opts
    return [
        path(
            "export/<str:file_format>/",
            model_admin.admin_site.admin_view(view),
            name=f"{opts.app_label}_{opts.model_name}_export",
        )
    ]
