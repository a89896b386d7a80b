from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from keys.crypto import MAX_IMPORT_BYTES
from keys.durations import (
    DOCUMENTED_PATTERN,
    DurationError,
    format_duration,
    parse_duration,
)
from keys.models import AuditEvent, ExportTarget, IssuedToken, Issuer, KeyPair
from keys.neuronex.profiles import AUDIENCES, ISS_STYLE_CHOICES
from keys.neuronex.verifier import MAX_TOKEN_BYTES
from keys.services.tokens import MAX_LABEL_LENGTH, MAX_REASON_LENGTH

DURATION_SCHEMA = {"type": "string", "pattern": DOCUMENTED_PATTERN, "example": "90d"}


@extend_schema_field(DURATION_SCHEMA)
class DurationField(serializers.Field):
    """A lifetime as people write it: 90d, 12h, 30m or seconds."""

    def to_internal_value(self, data):
        if not isinstance(data, (str, int)) or isinstance(data, bool):
            raise serializers.ValidationError("Give a duration such as 90d, 12h, 30m or 3600.")
        try:
            return parse_duration(str(data))
        except DurationError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def to_representation(self, value):
        return format_duration(value)


class IssuerSerializer(serializers.ModelSerializer):
    default_ttl = DurationField(required=False)
    max_ttl = DurationField(required=False)
    iss_style = serializers.ChoiceField(choices=ISS_STYLE_CHOICES, required=False)
    audience = serializers.ChoiceField(choices=AUDIENCES, required=False)
    iss = serializers.CharField(read_only=True)
    key_file = serializers.CharField(source="key_file_name", read_only=True)

    class Meta:
        model = Issuer
        fields = [
            "name",
            "iss",
            "key_file",
            "iss_style",
            "audience",
            "default_ttl",
            "max_ttl",
            "description",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["is_active", "created_at"]
        extra_kwargs = {"name": {"validators": []}}  # the service says why a name is refused


class TokenSerializer(serializers.ModelSerializer):
    issuer = serializers.CharField(source="issuer.name")
    kid = serializers.CharField(source="key_pair.kid")
    status = serializers.SerializerMethodField()
    still_accepted_until = serializers.SerializerMethodField()

    class Meta:
        model = IssuedToken
        fields = [
            "jti",
            "issuer",
            "label",
            "status",
            "iat",
            "exp",
            "kid",
            "minted_by_name",
            "channel",
            "revoked_at",
            "revoked_by_name",
            "revoke_reason",
            "still_accepted_until",
        ]

    def get_status(self, token) -> str:
        return str(token.status_at(self.context["now"]))

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_still_accepted_until(self, token) -> str | None:
        from keys.selectors import token_accepted_until

        until = token_accepted_until(token, self.context["now"], self.context.get("exported"))
        return serializers.DateTimeField().to_representation(until) if until else None


class RevokedTokenSerializer(TokenSerializer):
    notice = serializers.SerializerMethodField(
        help_text="Until when NeuronEX still accepts the token, and what would stop it sooner"
    )

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "notice"]

    def get_notice(self, token) -> str:
        return self.context["notice"]


class MintSerializer(serializers.Serializer):
    issuer = serializers.CharField(max_length=64)
    label = serializers.CharField(max_length=MAX_LABEL_LENGTH)
    ttl = DurationField(required=False)
    expires_at = serializers.DateTimeField(required=False)


class MintedSerializer(serializers.Serializer):
    jti = serializers.UUIDField()
    token = serializers.CharField()
    iss = serializers.CharField()
    aud = serializers.CharField()
    iat = serializers.IntegerField()
    exp = serializers.IntegerField()
    label = serializers.CharField()
    authorization_header = serializers.CharField()
    warnings = serializers.ListField(child=serializers.CharField())


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=MAX_REASON_LENGTH, required=False, allow_blank=True)


class VerifySerializer(serializers.Serializer):
    token = serializers.CharField(max_length=MAX_TOKEN_BYTES, trim_whitespace=True)
    target = serializers.CharField(max_length=64, required=False)


class IssuerUpdateSerializer(serializers.Serializer):
    iss_style = serializers.ChoiceField(choices=ISS_STYLE_CHOICES, required=False)
    audience = serializers.ChoiceField(choices=AUDIENCES, required=False)
    default_ttl = DurationField(required=False)
    max_ttl = DurationField(required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    is_active = serializers.BooleanField(required=False)


class KeyPairSerializer(serializers.ModelSerializer):
    class Meta:
        model = KeyPair
        # The encrypted private key is deliberately absent.
        fields = ["kid", "bits", "status", "origin", "public_pem", "created_at", "retired_at"]


class RotatedKeySerializer(KeyPairSerializer):
    tokens_stopped = serializers.SerializerMethodField(
        help_text="Unexpired tokens of the issuer that the retired key had signed"
    )

    class Meta(KeyPairSerializer.Meta):
        fields = [*KeyPairSerializer.Meta.fields, "tokens_stopped"]

    def get_tokens_stopped(self, key_pair) -> int:
        return self.context["tokens_stopped"]


KEY_SIZES = KeyPair._meta.get_field("bits").choices


class GenerateKeySerializer(serializers.Serializer):
    bits = serializers.ChoiceField(choices=KEY_SIZES, default=2048)


class RotateSerializer(serializers.Serializer):
    bits = serializers.ChoiceField(choices=KEY_SIZES, required=False)


class ImportKeySerializer(serializers.Serializer):
    pem = serializers.CharField(max_length=MAX_IMPORT_BYTES, trim_whitespace=False)
    passphrase = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    replace = serializers.BooleanField(default=False)


class TargetSerializer(serializers.ModelSerializer):
    folder = serializers.CharField(read_only=True)
    issuers = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = ExportTarget
        fields = [
            "name",
            "folder",
            "profile",
            "enabled",
            "auto_export",
            "issuers",
            "last_export_at",
            "last_export_ok",
            "last_export_result",
        ]


class ExportSerializer(serializers.Serializer):
    force = serializers.BooleanField(default=False)


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "seq",
            "created_at",
            "actor_name",
            "channel",
            "remote_addr",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "details",
            "hash",
        ]


class VerifyCheckSerializer(serializers.Serializer):
    name = serializers.CharField()
    ok = serializers.BooleanField()
    reason = serializers.CharField()


class VerifyReportSerializer(serializers.Serializer):
    """Rendered from ``VerifyReport.as_dict()``: the command prints the same."""

    accepted = serializers.BooleanField()
    where = serializers.CharField(help_text="Whose keys the token was checked against")
    checks = VerifyCheckSerializer(many=True, help_text="In the verifier's order")
    jti = serializers.UUIDField(allow_null=True, help_text="The portal's record, if any")
    notes = serializers.ListField(child=serializers.CharField())


class ExportResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    summary = serializers.CharField()
    written = serializers.ListField(child=serializers.CharField())
    removed = serializers.ListField(child=serializers.CharField())
    unchanged = serializers.ListField(child=serializers.CharField())
    problems = serializers.ListField(child=serializers.CharField())
    failure = serializers.CharField(allow_blank=True)


class FindingSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=["error", "warning"])
    code = serializers.CharField()
    message = serializers.CharField()
    fix = serializers.CharField()
    file = serializers.CharField(allow_blank=True)


class TargetCheckSerializer(serializers.Serializer):
    in_sync = serializers.BooleanField()
    findings = FindingSerializer(many=True)
