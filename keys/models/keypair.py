from django.conf import settings
from django.db import models
from django.db.models import Q

from keys.neuronex.profiles import RSA_KEY_SIZES


class KeyPair(models.Model):
    """An RSA key pair of an issuer. The private half is stored only encrypted."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        RETIRED = "retired"

    class Origin(models.TextChoices):
        GENERATED = "generated"
        IMPORTED = "imported"

    issuer = models.ForeignKey("keys.Issuer", on_delete=models.PROTECT, related_name="key_pairs")
    kid = models.CharField(
        "key id", max_length=43, unique=True, help_text="RFC 7638 JWK thumbprint (SHA-256)."
    )
    bits = models.PositiveSmallIntegerField(choices=[(size, str(size)) for size in RSA_KEY_SIZES])
    public_pem = models.TextField("public key (PEM)")
    # Fernet token over the PKCS#8 DER private key; see keys.crypto.
    private_key_encrypted = models.TextField(editable=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    origin = models.CharField(max_length=9, choices=Origin.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["issuer__name", "-created_at"]
        verbose_name = "key pair"
        permissions = [("download_private_key", "Can download private keys")]
        constraints = [
            models.UniqueConstraint(
                fields=["issuer"],
                condition=Q(status="active"),
                name="one_active_keypair_per_issuer",
                violation_error_message="An issuer has at most one active key pair.",
            ),
            models.CheckConstraint(condition=Q(bits__in=RSA_KEY_SIZES), name="keypair_bits_valid"),
            models.CheckConstraint(
                condition=Q(status="active", retired_at__isnull=True)
                | Q(status="retired", retired_at__isnull=False),
                name="keypair_retired_at_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.issuer.name} {self.bits}-bit {self.kid[:8]} ({self.status})"

    def __repr__(self) -> str:
        # Never include the encrypted private key, even in a traceback.
        return f"<KeyPair {self.pk} {self.kid} {self.status}>"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE
