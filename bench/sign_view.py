"""A mint without its records: the baseline bench/api.py compares minting with.

``POST /api/v1/bench/sign/`` (served only under bench.settings) takes what
``POST /api/v1/tokens/`` takes and answers in the same shape with 201. It goes through the same
steps as ``TokenListView.post`` and ``keys.services.tokens.token_mint``, calling the same
functions: authentication, role permission and throttle of a mint, MintSerializer, the issuer
from the selector, label and expiry checks, the claims, the transaction holding the issuer's
key lock while the active key is read, the key from the process's signing-key cache, the
RS256 signature, and the export warnings. Left out are exactly the token row and the audit
event, so that mints/s divided by signs/s is what recording costs.
"""

import uuid

from django.db import transaction
from rest_framework import status
from rest_framework.response import Response

from keys import clock, crypto
from keys.api.serializers import MintedSerializer, MintSerializer
from keys.api.views import PortalAPIView, TokenListView
from keys.errors import Conflict
from keys.neuronex import claims as neuronex_claims
from keys.selectors import issuer_export_warnings, issuer_get
from keys.services import tokens


class SignOnlyView(PortalAPIView):
    required_perms = {"POST": "keys.mint_token"}
    # The mint's scope: the throttle's cache round trips are part of what a mint costs.
    throttle_scopes = {"POST": TokenListView.throttle_scopes["POST"]}

    def post(self, request):
        serializer = MintSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        issuer = issuer_get(data["issuer"])
        label = tokens.clean_text(
            data["label"], field="label", max_length=tokens.MAX_LABEL_LENGTH, required=True
        )
        iat = int(clock.now().timestamp())
        exp = tokens._expiry(issuer, iat, data.get("ttl"), data.get("expires_at"))
        if not issuer.is_active:
            raise Conflict("The issuer is disabled.", field="issuer")
        payload = neuronex_claims.build_claims(
            iss=issuer.iss, aud=issuer.audience, jti=str(uuid.uuid4()), iat=iat, exp=exp
        )
        with transaction.atomic():
            active_key = tokens._active_key_for_signing(issuer)
            if active_key is None:
                raise Conflict("The issuer has no active key pair.", field="issuer")
            key_pair_id, kid = active_key
            private_key = crypto.signing_keys.get(kid, lambda: tokens._ciphertext(key_pair_id))
            token = neuronex_claims.encode_token(payload, private_key)
        body = {
            **{key: payload[key] for key in ("jti", "iss", "aud", "iat", "exp")},
            "token": token,
            "label": label,
            "authorization_header": neuronex_claims.authorization_header(token, payload["aud"]),
            "warnings": issuer_export_warnings(issuer, kid),
        }
        response = Response(MintedSerializer(body).data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response
