from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Case, Q, Value, When

from keys import clock


class TokenStatus(models.TextChoices):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class Channel(models.TextChoices):
    ADMIN = "admin"
    API = "api"
    CLI = "cli"


def token_status(revoked_at: datetime | None, exp: datetime, now: datetime) -> TokenStatus:
    """The rule status_expression applies in the database, for a row already in hand."""
    if revoked_at is not None:
        return TokenStatus.REVOKED
    if exp <= now:
        return TokenStatus.EXPIRED
    return TokenStatus.ACTIVE


def status_expression(now: datetime) -> Case:
    """token_status in the database: the row's status as of ``now``, as text."""
    return Case(
        When(revoked_at__isnull=False, then=Value(TokenStatus.REVOKED.value)),
        When(exp__lte=now, then=Value(TokenStatus.EXPIRED.value)),
        default=Value(TokenStatus.ACTIVE.value),
        output_field=models.CharField(),
    )


def still_accepted_condition(exported_kids, now: datetime) -> Q:
    """Revoked, not expired, and signed by a key still in force (the issuer's active key, or a
    key whose file is still in an export folder): NeuronEX still accepts the token. The
    database's form of keys.neuronex.revocation.still_accepted_until."""
    return Q(revoked_at__isnull=False, exp__gt=now) & (
        Q(key_pair__status="active") | Q(key_pair__kid__in=list(exported_kids))
    )


class IssuedTokenQuerySet(models.QuerySet):
    """Status is derived from the row and "now"; these filters run in the database."""

    def revoked(self):
        return self.filter(revoked_at__isnull=False)

    def expired(self, now: datetime | None = None):
        return self.filter(revoked_at__isnull=True, exp__lte=now or clock.now())

    def active(self, now: datetime | None = None):
        return self.filter(revoked_at__isnull=True, exp__gt=now or clock.now())

    def with_status(self, status: str, now: datetime | None = None):
        if status == TokenStatus.REVOKED:
            return self.revoked()
        if status == TokenStatus.EXPIRED:
            return self.expired(now)
        if status == TokenStatus.ACTIVE:
            return self.active(now)
        raise ValueError(f"unknown token status {status!r}")

    def revoked_still_accepted(self, exported_kids, now: datetime | None = None):
        return self.filter(still_accepted_condition(exported_kids, now or clock.now()))

    def expiring_within(self, window, now: datetime | None = None):
        now = now or clock.now()
        return self.active(now).filter(exp__lte=now + window)

    def annotate_status(self, now: datetime | None = None):
        return self.annotate(status=status_expression(now or clock.now()))


class IssuedToken(models.Model):
    """A minted JWT. The token string itself is never stored, only its SHA-256."""

    jti = models.UUIDField("token id (jti)", unique=True, editable=False)
    issuer = models.ForeignKey("keys.Issuer", on_delete=models.PROTECT, related_name="tokens")
    key_pair = models.ForeignKey(
        "keys.KeyPair",
        on_delete=models.PROTECT,
        related_name="tokens",
        db_index=False,  # token_key_state below starts with it
    )
    label = models.CharField(max_length=200, help_text="What the token is for.")
    iat = models.DateTimeField("issued at")
    exp = models.DateTimeField("expires at", db_index=True)
    claims = models.JSONField(help_text="The payload as minted.")
    token_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    minted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    minted_by_name = models.CharField(max_length=150, blank=True)
    channel = models.CharField(max_length=5, choices=Channel.choices)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_by_name = models.CharField(max_length=150, blank=True)
    revoke_reason = models.TextField(blank=True)

    objects = IssuedTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-iat", "-id"]
        verbose_name = "issued token"
        permissions = [
            ("mint_token", "Can mint tokens"),
            ("revoke_token", "Can revoke tokens"),
        ]
        # Measured with bench/audit.py at a million tokens (SQLite and PostgreSQL):
        indexes = [
            # The report's per-issuer counts read only these columns: with them all in the
            # index, SQLite counts from the index instead of looking up every row (2.3 s ->
            # 0.35 s), and PostgreSQL can scan it index-only. Replaces (issuer, exp), its
            # prefix.
            models.Index(
                fields=["issuer", "revoked_at", "exp", "key_pair"], name="token_issuer_state"
            ),
            # Ranges of exp with the status: the expiring-soon list, its count and date
            # drill-down, the report's upcoming weeks and longest-lived, without a row lookup.
            models.Index(fields=["exp", "revoked_at", "issuer"], name="token_exp_state"),
            # A key's unexpired tokens: the report's "signed by a retired key" reads only the
            # few a retired key still has (PostgreSQL 30 ms -> 4 ms), instead of every active
            # token of the issuer. Also serves the foreign key.
            models.Index(fields=["key_pair", "revoked_at", "exp"], name="token_key_state"),
            # The report's minted and revoked per week.
            models.Index(fields=["iat"], name="token_iat"),
            # Partial: a plain index on revoked_at is the one SQLite (no ANALYZE) picks for
            # every "revoked_at IS NULL" filter, scanning 90 % of the table (the expiring-soon
            # list went from 0.23 s to 1.3 s). Only revoked tokens, for "revoked in week N".
            models.Index(
                fields=["revoked_at"],
                name="token_revoked_at",
                condition=Q(revoked_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(exp__gt=models.F("iat")), name="token_exp_after_iat"
            ),
            models.CheckConstraint(condition=~Q(label=""), name="token_label_required"),
        ]

    def __str__(self) -> str:
        return f"{self.jti} ({self.label})"

    def status_at(self, now: datetime | None = None) -> TokenStatus:
        return token_status(self.revoked_at, self.exp, now or clock.now())
