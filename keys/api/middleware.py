from django.conf import settings

from keys.api.errors import is_api_request, json_error


class RequestBodyLimitMiddleware:
    """Refuse an API request whose body is larger than ``PORTAL_API_MAX_BODY_BYTES`` before
    anything reads it. Django's own limit (DATA_UPLOAD_MAX_MEMORY_SIZE) guards ``request.body``
    and forms only; DRF's JSON parser reads the stream itself and would take any size."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_api_request(request):
            refusal = self.refusal(request.META.get("CONTENT_LENGTH") or "0")
            if refusal is not None:
                return refusal
        return self.get_response(request)

    @staticmethod
    def refusal(declared: str):
        try:
            size = int(declared)
        except ValueError:
            size = -1
        if size < 0:
            return json_error(400, "bad_request", "The Content-Length header is not a number.")
        limit = settings.PORTAL_API_MAX_BODY_BYTES
        if size > limit:
            return json_error(
                413,
                "request_too_large",
                f"The request body has {size} bytes; the API accepts at most {limit}.",
            )
        return None
