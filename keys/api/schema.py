"""The OpenAPI schema documents every error an operation can answer with, not only success:
the error shape is one (keys/api/errors.py), so the statuses follow from what a view does."""

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable, e.g. not_found, throttled")
    message = serializers.CharField(help_text="For the person who sent the request")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Per input field (or header), what is wrong with it",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


GENERIC = {
    401: "No credentials, or an unknown, expired or revoked API token.",
    403: "The user's role does not allow this (or a session request without its CSRF token).",
}
WITH_BODY = {
    400: "The request is not valid; `fields` says what is wrong with which input.",
    413: "The request body is larger than PORTAL_API_MAX_BODY_BYTES.",
    415: "The body is not JSON (or form data).",
    409: "The current state forbids it; the message says which state and what to do.",
}
WITH_PATH_OBJECT = {404: "No such object."}
THROTTLED = {429: "Too many requests from this user; wait as many seconds as Retry-After says."}


class PortalAutoSchema(AutoSchema):
    """A view adds what only it answers with in ``error_statuses``:
    ``{"POST": {422: "why"}}``."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for status, description in self.error_statuses(path, operation).items():
            responses.setdefault(str(status), self.error_response(status, description))
        return operation

    def error_statuses(self, path: str, operation: dict) -> dict[int, str]:
        if any(isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            return {}
        statuses = dict(GENERIC)
        if "requestBody" in operation:
            statuses.update(WITH_BODY)
        if "{" in path:
            statuses.update(WITH_PATH_OBJECT)
        if self.method in getattr(self.view, "throttle_scopes", {}):
            statuses.update(THROTTLED)
        statuses.update(getattr(self.view, "error_statuses", {}).get(self.method, {}))
        return dict(sorted(statuses.items()))

    def error_response(self, status: int, description: str) -> dict:
        schema = self.resolve_serializer(ErrorSerializer, "response").ref
        response = {"description": description, "content": {"application/json": {"schema": schema}}}
        if status == 429:
            response["headers"] = {
                "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
            }
        return response
