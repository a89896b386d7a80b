from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from keys.durations import DurationError, format_duration, parse_duration
from keys.models import IssuedToken, Issuer
from keys.neuronex.profiles import AUDIENCES, ISS_STYLE_CHOICES
from keys.neuronex.verifier import MAX_TOKEN_BYTES
from keys.services.tokens import MAX_LABEL_LENGTH, MAX_REASON_LENGTH


@extend_schema_field(OpenApiTypes.STR)
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

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_still_accepted_until(self, token) -> str | None:
        from keys.selectors import token_accepted_until

        until = token_accepted_until(token, self.context["now"], self.context.get("exported"))
        return serializers.DateTimeField().to_representation(until) if until else None


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
