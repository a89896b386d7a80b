"""One JSON error shape for everything under /api/:
``{"error": {"code": ..., "message": ..., "fields": {field: [messages]}}}``."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from keys.crypto import EncryptionKeyError
from keys.errors import Conflict, InvalidInput, NotFound, PortalError, Unprocessable

DOMAIN_STATUS = {
    InvalidInput: status.HTTP_400_BAD_REQUEST,
    NotFound: status.HTTP_404_NOT_FOUND,
    Conflict: status.HTTP_409_CONFLICT,
    Unprocessable: status.HTTP_422_UNPROCESSABLE_ENTITY,
}


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def exception_handler(exc, context):
    if isinstance(exc, PortalError):
        http_status = next(
            (code for kind, code in DOMAIN_STATUS.items() if isinstance(exc, kind)), 400
        )
        # The services name their inputs as the admin's forms do; a view may call one
        # differently in its JSON body (the import's "file" is "pem").
        field = getattr(context.get("view"), "domain_fields", {}).get(exc.field, exc.field)
        fields = {field: [exc.message]} if field else {}
        return Response(error_body(exc.code, exc.message, fields), status=http_status)
    if isinstance(exc, EncryptionKeyError):
        return Response(
            error_body("encryption_key", "A stored private key cannot be decrypted."),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body("invalid", "The request is not valid.", fields)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        response.data = error_body(str(code), str(detail))
    return response


API_PATH_PREFIX = "/api/"


def is_api_request(request) -> bool:
    return request.path_info.startswith(API_PATH_PREFIX)


def json_error(http_status: int, code: str, message: str) -> JsonResponse:
    """The error shape for answers given outside DRF: by middleware and Django's handlers."""
    return JsonResponse(error_body(code, message), status=http_status)


@csrf_exempt  # nothing happens here; a POST deserves the 404 too, not a CSRF refusal
def unknown_address(request, *args, **kwargs) -> JsonResponse:
    """Every address under /api/ that names nothing, in DEBUG too (where Django would answer
    with its HTML page), and without the POST-to-a-missing-slash error of APPEND_SLASH."""
    message = "Nothing is at this address."
    if not request.path_info.endswith("/"):
        try:
            resolve(request.path_info + "/")
        except Resolver404:
            pass
        else:
            message += f" Did you mean {request.path_info}/ (with the slash)?"
    return json_error(404, "not_found", message)
