"""The REST API: each view parses input, calls one service or selector, and renders."""

from django.http import HttpResponse
from django.views.decorators.debug import sensitive_variables
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from keys import clock
from keys.api.permissions import RolePermission
from keys.api.serializers import (
    AuditEventSerializer,
    ExportResultSerializer,
    ExportSerializer,
    GenerateKeySerializer,
    ImportKeySerializer,
    IssuerSerializer,
    IssuerUpdateSerializer,
    KeyPairSerializer,
    MintedSerializer,
    MintSerializer,
    RevokedTokenSerializer,
    RevokeSerializer,
    RotatedKeySerializer,
    RotateSerializer,
    TargetCheckSerializer,
    TargetSerializer,
    TokenSerializer,
    VerifyReportSerializer,
    VerifySerializer,
)
from keys.bundles import PEM_CONTENT_TYPE
from keys.durations import DOCUMENTED_PATTERN, DurationError, parse_duration
from keys.errors import InvalidInput
from keys.models import ExportTarget, Issuer
from keys.neuronex.claims import authorization_header
from keys.neuronex.folder import ERROR
from keys.neuronex.revocation import revocation_notice
from keys.selectors import (
    audit_event_list,
    exported_kids,
    issuer_active_key,
    issuer_get,
    target_get,
    token_accepted_until,
    token_count_stopped_by_rotation,
    token_get,
    token_list,
)
from keys.services.actor import Actor
from keys.services.exports import export_target, target_check
from keys.services.idempotency import HEADER, request_fingerprint, token_mint_once
from keys.services.issuers import issuer_create, issuer_update
from keys.services.keypairs import keypair_generate, keypair_import, keypair_rotate
from keys.services.tokens import token_mint, token_revoke
from keys.services.verification import verify_token

JTI = OpenApiParameter("jti", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Token id")


def api_actor(request) -> Actor:
    return Actor.from_request(request, channel="api")


class PortalAPIView(APIView):
    permission_classes = [RolePermission]
    required_perms: dict[str, str] = {}
    # Methods limited per user (keys/api/throttles.py), to a rate in PORTAL_THROTTLE_RATES.
    throttle_scopes: dict[str, str] = {}


class IssuerListView(PortalAPIView):
    required_perms = {"GET": "keys.view_issuer", "POST": "keys.add_issuer"}

    @extend_schema(responses=IssuerSerializer(many=True))
    def get(self, request):
        issuers = Issuer.objects.order_by("name")
        return Response(IssuerSerializer(issuers, many=True).data)

    @extend_schema(request=IssuerSerializer, responses={201: IssuerSerializer})
    def post(self, request):
        serializer = IssuerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issuer = issuer_create(actor=api_actor(request), **serializer.validated_data)
        return Response(IssuerSerializer(issuer).data, status=status.HTTP_201_CREATED)


class IssuerDetailView(PortalAPIView):
    """Read or change an issuer; disable it with ``{"is_active": false}``. An issuer is never
    deleted: its tokens and audit events refer to it."""

    required_perms = {"GET": "keys.view_issuer", "PATCH": "keys.change_issuer"}

    @extend_schema(responses=IssuerSerializer)
    def get(self, request, name: str):
        return Response(IssuerSerializer(issuer_get(name)).data)

    @extend_schema(request=IssuerUpdateSerializer, responses=IssuerSerializer)
    def patch(self, request, name: str):
        serializer = IssuerUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issuer = issuer_update(
            actor=api_actor(request), issuer=issuer_get(name), **serializer.validated_data
        )
        return Response(IssuerSerializer(issuer).data)


class PublicKeyView(PortalAPIView):
    required_perms = {"GET": "keys.view_issuer"}
    error_statuses = {"GET": {404: "No such issuer, or it has no active key pair."}}

    @extend_schema(responses={(200, PEM_CONTENT_TYPE): str})
    def get(self, request, name: str):
        issuer = issuer_get(name)
        response = HttpResponse(issuer_active_key(issuer).public_pem, content_type=PEM_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{issuer.key_file_name}"'
        return response


TOKEN_FILTER_PARAMETERS = [
    OpenApiParameter("issuer", str),
    OpenApiParameter("status", str, enum=["active", "expired", "revoked"]),
    OpenApiParameter("expiring_within", str, pattern=DOCUMENTED_PATTERN, description="e.g. 7d"),
]


def token_filters(params) -> dict:
    """token_list's filters from a query string; shared by the list and its export."""
    window = params.get("expiring_within")
    try:
        expiring_within = parse_duration(window) if window else None
    except DurationError as exc:
        raise InvalidInput(str(exc), field="expiring_within") from exc
    return {
        "issuer": issuer_get(params["issuer"]) if params.get("issuer") else None,
        "status": params.get("status") or None,
        "expiring_within": expiring_within,
    }


class TokenListView(PortalAPIView):
    required_perms = {"GET": "keys.view_issuedtoken", "POST": "keys.mint_token"}
    throttle_scopes = {"POST": "mint"}
    pagination_class = LimitOffsetPagination
    error_statuses = {
        "GET": {
            400: "A filter is not valid; `fields` names it.",
            404: "No issuer of that name.",
        },
        "POST": {
            404: "No issuer of that name.",
            422: "The Idempotency-Key was used before for a different request.",
            503: "The issuer's private key cannot be decrypted with PORTAL_ENCRYPTION_KEYS.",
        },
    }

    @extend_schema(
        parameters=TOKEN_FILTER_PARAMETERS,
        responses=TokenSerializer(many=True),
    )
    def get(self, request):
        now = clock.now()
        tokens = token_list(**token_filters(request.query_params), now=now)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(tokens, request, view=self)
        context = {"now": now, "exported": exported_kids()}
        return paginator.get_paginated_response(
            TokenSerializer(page, many=True, context=context).data
        )

    @extend_schema(
        request=MintSerializer,
        parameters=[
            OpenApiParameter(
                HEADER,
                str,
                OpenApiParameter.HEADER,
                description="Any unique string, such as a UUID. A retry of the same request "
                "with the same key within PORTAL_IDEMPOTENCY_WINDOW (24 h) answers with the "
                "first result, token included, instead of minting again; the answer then "
                "carries `Idempotent-Replayed: true`. The same key with a different request "
                "is a 422.",
            )
        ],
        responses={201: MintedSerializer},
    )
    def post(self, request):
        serializer = MintSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        actor = api_actor(request)

        def mint():
            return token_mint(
                actor=actor,
                issuer=issuer_get(data["issuer"]),
                label=data["label"],
                ttl=data.get("ttl"),
                expires_at=data.get("expires_at"),
            )

        key = request.headers.get(HEADER)
        if key is None:
            minted, replayed = mint(), False
        else:
            minted, replayed = token_mint_once(
                actor=actor, key=key, fingerprint=request_fingerprint(request.data), mint=mint
            )
        claims = minted.record.claims
        body = {
            **{key: claims[key] for key in ("jti", "iss", "aud", "iat", "exp")},
            "token": minted.token,
            "label": minted.record.label,
            "authorization_header": authorization_header(minted.token, claims["aud"]),
            "warnings": list(minted.warnings),
        }
        response = Response(MintedSerializer(body).data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class TokenDetailView(PortalAPIView):
    required_perms = {"GET": "keys.view_issuedtoken"}
    error_statuses = {"GET": {400: "The jti is not a UUID."}}

    @extend_schema(parameters=[JTI], responses=TokenSerializer)
    def get(self, request, jti: str):
        context = {"now": clock.now()}
        return Response(TokenSerializer(token_get(jti), context=context).data)


class TokenRevokeView(PortalAPIView):
    required_perms = {"POST": "keys.revoke_token"}

    @extend_schema(parameters=[JTI], request=RevokeSerializer, responses=RevokedTokenSerializer)
    def post(self, request, jti: str):
        serializer = RevokeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token = token_revoke(
            actor=api_actor(request),
            token=token_get(jti),
            reason=serializer.validated_data.get("reason", ""),
        )
        now = clock.now()
        notice = revocation_notice(token_accepted_until(token, now))
        return Response(RevokedTokenSerializer(token, context={"now": now, "notice": notice}).data)


class TokenVerifyView(PortalAPIView):
    required_perms = {"POST": "keys.view_issuedtoken"}
    throttle_scopes = {"POST": "verify"}
    error_statuses = {"POST": {404: "No export target of that name."}}

    @extend_schema(request=VerifySerializer, responses=VerifyReportSerializer)
    def post(self, request):
        serializer = VerifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        target = target_get(data["target"]) if data.get("target") else None
        report = verify_token(data["token"], target)
        return Response(VerifyReportSerializer(report.as_dict()).data)


class IssuerKeysView(PortalAPIView):
    required_perms = {"GET": "keys.view_keypair", "POST": "keys.add_keypair"}

    @extend_schema(responses=KeyPairSerializer(many=True))
    def get(self, request, name: str):
        key_pairs = (
            issuer_get(name).key_pairs.defer("private_key_encrypted").order_by("-created_at")
        )
        return Response(KeyPairSerializer(key_pairs, many=True).data)

    @extend_schema(request=GenerateKeySerializer, responses={201: KeyPairSerializer})
    def post(self, request, name: str):
        serializer = GenerateKeySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key_pair = keypair_generate(
            actor=api_actor(request),
            issuer=issuer_get(name),
            bits=serializer.validated_data["bits"],
        )
        return Response(KeyPairSerializer(key_pair).data, status=status.HTTP_201_CREATED)


class IssuerKeyImportView(PortalAPIView):
    required_perms = {"POST": "keys.add_keypair"}
    domain_fields = {"file": "pem"}

    @extend_schema(request=ImportKeySerializer, responses={201: KeyPairSerializer})
    @sensitive_variables("serializer", "data")  # the key and its passphrase, in error reports
    def post(self, request, name: str):
        serializer = ImportKeySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        key_pair = keypair_import(
            actor=api_actor(request),
            issuer=issuer_get(name),
            pem=data["pem"].encode("utf-8"),
            passphrase=data.get("passphrase") or None,
            replace_active=data["replace"],
        )
        return Response(KeyPairSerializer(key_pair).data, status=status.HTTP_201_CREATED)


class IssuerRotateView(PortalAPIView):
    required_perms = {"POST": "keys.add_keypair"}

    @extend_schema(request=RotateSerializer, responses=RotatedKeySerializer)
    def post(self, request, name: str):
        serializer = RotateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issuer = issuer_get(name)
        stopped = token_count_stopped_by_rotation(issuer)
        key_pair = keypair_rotate(
            actor=api_actor(request), issuer=issuer, bits=serializer.validated_data.get("bits")
        )
        return Response(RotatedKeySerializer(key_pair, context={"tokens_stopped": stopped}).data)


class TargetListView(PortalAPIView):
    required_perms = {"GET": "keys.view_exporttarget"}

    @extend_schema(responses=TargetSerializer(many=True))
    def get(self, request):
        targets = ExportTarget.objects.prefetch_related("issuers").order_by("name")
        return Response(TargetSerializer(targets, many=True).data)


class TargetExportView(PortalAPIView):
    required_perms = {"POST": "keys.export_keys"}

    @extend_schema(request=ExportSerializer, responses=ExportResultSerializer)
    def post(self, request, name: str):
        serializer = ExportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = export_target(
            actor=api_actor(request),
            target=target_get(name),
            force=serializer.validated_data["force"],
        )
        return Response(ExportResultSerializer(result).data)


class TargetCheckView(PortalAPIView):
    required_perms = {"GET": "keys.view_exporttarget"}

    @extend_schema(responses=TargetCheckSerializer)
    def get(self, request, name: str):
        findings = target_check(target_get(name))
        in_sync = not any(finding.severity == ERROR for finding in findings)
        return Response(TargetCheckSerializer({"in_sync": in_sync, "findings": findings}).data)


class AuditEventListView(PortalAPIView):
    required_perms = {"GET": "keys.view_auditevent"}
    pagination_class = LimitOffsetPagination

    @extend_schema(
        parameters=[OpenApiParameter("action", str), OpenApiParameter("actor", str)],
        responses=AuditEventSerializer(many=True),
    )
    def get(self, request):
        events = audit_event_list(
            action=request.query_params.get("action"), actor=request.query_params.get("actor")
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(events, request, view=self)
        return paginator.get_paginated_response(AuditEventSerializer(page, many=True).data)
