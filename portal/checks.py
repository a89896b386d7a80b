"""System checks: production refuses to start without its secrets.

They run before every management command and, through ``portal.wsgi``, before a WSGI server
serves the first request.
"""

from datetime import timedelta

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from keys.api.throttles import parse_rate
from keys.errors import InvalidInput
from keys.neuronex.profiles import AUDIENCES
from keys.services.alerts import parse_thresholds


@register(Tags.security)
def check_secret_key(app_configs, **kwargs):
    if settings.SECRET_KEY_CONFIGURED:
        return []
    return [
        Error(
            "DJANGO_SECRET_KEY is not set.",
            hint="Set DJANGO_SECRET_KEY to a long random string, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`.",
            id="portal.E001",
        )
    ]


@register(Tags.security)
def check_allowed_hosts(app_configs, **kwargs):
    if settings.DEBUG or settings.ALLOWED_HOSTS:
        return []
    return [
        Error(
            "DJANGO_ALLOWED_HOSTS is not set: the portal would answer no request.",
            hint="Set DJANGO_ALLOWED_HOSTS to the comma-separated host names the portal is "
            "reached by, e.g. portal.example.com (the name in the browser's address bar or the "
            "reverse proxy's Host header). /healthz answers whatever the host.",
            id="portal.E010",
        )
    ]


@register(Tags.security)
def check_encryption_keys(app_configs, **kwargs):
    keys = settings.PORTAL_ENCRYPTION_KEYS
    if not keys:
        return [
            Error(
                "PORTAL_ENCRYPTION_KEYS is not set: private keys cannot be encrypted at rest.",
                hint="Set PORTAL_ENCRYPTION_KEYS to one or more comma-separated Fernet keys "
                "(the first encrypts, all decrypt), e.g. the output of `python -c "
                "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`. "
                "Back it up: without it the stored private keys are lost.",
                id="portal.E002",
            )
        ]
    errors = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            errors.append(
                Error(
                    f"PORTAL_ENCRYPTION_KEYS entry {position} is not a valid Fernet key.",
                    hint="Each entry must be 32 url-safe base64-encoded bytes, as made by "
                    "Fernet.generate_key().",
                    id="portal.E003",
                )
            )
    return errors


@register()
def check_default_audience(app_configs, **kwargs):
    if settings.PORTAL_DEFAULT_AUDIENCE in AUDIENCES:
        return []
    return [
        Error(
            f"PORTAL_DEFAULT_AUDIENCE is {settings.PORTAL_DEFAULT_AUDIENCE!r}.",
            hint=f"Use one of: {', '.join(AUDIENCES)} (case-sensitive).",
            id="portal.E004",
        )
    ]


@register()
def check_token_ttl(app_configs, **kwargs):
    errors = []
    if settings.PORTAL_MAX_TOKEN_TTL.total_seconds() <= 0:
        errors.append(
            Error(
                "PORTAL_MAX_TOKEN_TTL must be positive.",
                hint="For example 365d.",
                id="portal.E005",
            )
        )
    if not (timedelta(0) < settings.PORTAL_DEFAULT_TOKEN_TTL <= settings.PORTAL_MAX_TOKEN_TTL):
        errors.append(
            Error(
                "PORTAL_DEFAULT_TOKEN_TTL must be positive and at most PORTAL_MAX_TOKEN_TTL.",
                hint="For example 90d.",
                id="portal.E006",
            )
        )
    return errors


@register()
def check_throttle_rates(app_configs, **kwargs):
    errors = []
    for scope, rate in settings.PORTAL_THROTTLE_RATES.items():
        try:
            parse_rate(rate)
        except ValueError as exc:
            errors.append(
                Error(
                    f"PORTAL_THROTTLE_{scope.upper()}: {exc}.",
                    hint="A count per second, minute, hour or day, such as 120/min.",
                    id="portal.E007",
                )
            )
    if settings.PORTAL_API_MAX_BODY_BYTES < 1024:
        errors.append(
            Error(
                "PORTAL_API_MAX_BODY_BYTES is below 1024: no key could be imported.",
                hint="The default, 131072, fits the largest key file an import accepts.",
                id="portal.E008",
            )
        )
    return errors


@register()
def check_alert_settings(app_configs, **kwargs):
    errors = []
    try:
        parse_thresholds(settings.PORTAL_ALERT_THRESHOLDS)
    except InvalidInput as exc:
        errors.append(
            Error(
                f"PORTAL_ALERT_THRESHOLDS: {exc}",
                hint="Comma-separated durations before a token's expiry, such as 30d,7d,1d.",
                id="portal.E009",
            )
        )
    for address in settings.PORTAL_ALERT_EMAILS:
        try:
            validate_email(address)
        except ValidationError:
            errors.append(
                Error(
                    f"PORTAL_ALERT_EMAILS: {address!r} is not an e-mail address.",
                    hint="Comma-separated addresses, such as ops@example.com,oncall@example.com.",
                    id="portal.E009",
                )
            )
    return errors
