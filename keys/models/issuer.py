from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

from keys.neuronex import claims
from keys.neuronex.names import (
    MAX_NAME_LENGTH,
    NAME_PATTERN,
    NEURON_LOGIN_KEY_PREFIXES,
    RESERVED_PREFIXES,
)
from keys.neuronex.profiles import AUDIENCE_CHOICES, ISS_FILENAME, ISS_STYLE_CHOICES


def default_audience() -> str:
    return settings.PORTAL_DEFAULT_AUDIENCE


def default_max_ttl() -> timedelta:
    return settings.PORTAL_MAX_TOKEN_TTL


def default_token_ttl() -> timedelta:
    return min(settings.PORTAL_DEFAULT_TOKEN_TTL, settings.PORTAL_MAX_TOKEN_TTL)


class Issuer(models.Model):
    """A name NeuronEX knows a public key by: the key file ``<name>.pem`` and the `iss` claim."""

    name = models.CharField(
        max_length=MAX_NAME_LENGTH,
        unique=True,
        validators=[RegexValidator(NAME_PATTERN), MaxLengthValidator(MAX_NAME_LENGTH)],
        help_text="Lowercase letters, digits, '-' and '_'. It names the key file: "
        "plant-a gives plant-a.pem.",
    )
    iss_style = models.CharField(
        "iss style", max_length=16, choices=ISS_STYLE_CHOICES, default=ISS_FILENAME
    )
    audience = models.CharField(max_length=32, choices=AUDIENCE_CHOICES, default=default_audience)
    default_ttl = models.DurationField(
        "default lifetime",
        default=default_token_ttl,
        help_text="Used when a mint names no lifetime.",
    )
    max_ttl = models.DurationField("maximum lifetime", default=default_max_ttl)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(
        "active", default=True, help_text="A disabled issuer mints nothing."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(name__regex=NAME_PATTERN)
                & ~Q(name__startswith=RESERVED_PREFIXES[0])
                & ~Q(name__startswith=RESERVED_PREFIXES[1])
                & ~Q(name__in=NEURON_LOGIN_KEY_PREFIXES),
                name="issuer_name_valid",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("name"), MAX_NAME_LENGTH),
                name="issuer_name_length",
            ),
            models.CheckConstraint(
                condition=Q(max_ttl__gt=timedelta(0))
                & Q(default_ttl__gt=timedelta(0))
                & Q(default_ttl__lte=models.F("max_ttl")),
                name="issuer_ttls_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def iss(self) -> str:
        return claims.iss_for(self.name, self.iss_style)

    @property
    def key_file_name(self) -> str:
        return claims.key_file_name(self.name)
