"""Middleware of the portal as a whole."""

from portal.views import healthz

HEALTH_PATH = "/healthz"


def health_check_middleware(get_response):
    """Answer ``GET /healthz`` before any other middleware.

    Container health checks and load balancers call it by address over plain HTTP: with the
    host check, the HTTPS redirect and the session machinery in front, a healthy portal would
    answer 400 (the address is not an allowed host) or 301 (not HTTPS)."""

    def middleware(request):
        if request.path == HEALTH_PATH and request.method in ("GET", "HEAD"):
            return healthz(request)
        return get_response(request)

    return middleware
