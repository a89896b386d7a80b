from django.http import JsonResponse
from django.views.decorators.http import require_GET

from keys.crypto import public_jwk
from keys.selectors import jwks_key_pairs

MAX_AGE = 300  # seconds: a rotation reaches JWKS consumers within five minutes


@require_GET
def jwks(request):
    """The public keys, for verifiers that fetch a JWK set instead of reading files. Public."""
    keys = [public_jwk(key_pair.public_pem, key_pair.kid) for key_pair in jwks_key_pairs()]
    response = JsonResponse({"keys": keys})
    response["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response
