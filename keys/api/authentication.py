from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication

from keys import clock


class ApiTokenAuthentication(TokenAuthentication):
    """knox's token check without its clean-up pass, which on every request loaded all of the
    user's tokens (a third query per request) and deleted the expired ones without a trace.
    An expired token is refused here, and stays listed as expired in the admin until it is
    revoked there, with an audit event."""

    def _cleanup_token(self, auth_token) -> bool:
        # True makes knox skip the token, and the request fails as with an unknown key.
        return auth_token.expiry is not None and auth_token.expiry <= clock.now()


class ApiTokenScheme(KnoxTokenScheme):
    """The schema's security scheme for it, the same as knox's own."""

    target_class = ApiTokenAuthentication
