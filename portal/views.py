from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from keys.api.errors import is_api_request, json_error, unknown_address


@never_cache
@require_GET
def healthz(request):
    """Liveness and database reachability, for load balancers and container health checks."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


# Django's error handlers answer in HTML; under /api/ a script gets the API's JSON shape instead.


def bad_request(request, exception):
    if is_api_request(request):
        return json_error(400, "bad_request", "The request could not be read.")
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if is_api_request(request):
        return json_error(403, "permission_denied", "You may not do this.")
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if is_api_request(request):
        return unknown_address(request)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if is_api_request(request):
        return json_error(500, "server_error", "The server failed; the error has been logged.")
    return defaults.server_error(request)
