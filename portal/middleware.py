"""Middleware of the portal as a whole."""

import ipaddress

from django.conf import settings

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


def forwarded_client_middleware(get_response):
    """Behind PORTAL_TRUSTED_PROXIES reverse proxies, the client's address as the outermost of
    them saw it, in REMOTE_ADDR, for everything that reads it: the audit log and the login
    lockout.

    Each proxy appends the address it was reached from to X-Forwarded-For, so with N proxies
    the N-th entry from the right was written by the outermost one; entries left of it are the
    client's own claims and never trusted. A header with fewer entries, or an entry that is no
    address, did not come through all of them: REMOTE_ADDR is kept."""
    trusted = settings.PORTAL_TRUSTED_PROXIES

    def middleware(request):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if trusted and forwarded:
            hops = [hop.strip() for hop in forwarded.split(",")]
            if len(hops) >= trusted:
                try:
                    client = ipaddress.ip_address(hops[-trusted])
                except ValueError:
                    pass
                else:
                    request.META["REMOTE_ADDR"] = client.compressed
        return get_response(request)

    return middleware
