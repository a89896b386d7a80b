from django.conf import settings
from django.db import models


class IdempotentMint(models.Model):
    """The first answer to a mint that carried an ``Idempotency-Key``, kept so that a retry of
    the same request gets that answer again instead of a second token.

    This is the one place a token outlives its minting: encrypted under
    PORTAL_ENCRYPTION_KEYS, given back only to the same user with the same key and request,
    and deleted once ``expires_at`` has passed (PORTAL_IDEMPOTENCY_WINDOW).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key_sha256 = models.CharField(max_length=64)
    request_sha256 = models.CharField(max_length=64)
    token = models.ForeignKey("keys.IssuedToken", on_delete=models.CASCADE, related_name="+")
    token_encrypted = models.TextField()
    warnings = models.JSONField(default=list)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key_sha256"], name="idempotent_mint_one_per_user_key"
            )
        ]

    def __str__(self) -> str:
        return f"idempotent mint of {self.token_id}"
