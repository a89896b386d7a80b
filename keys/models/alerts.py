from django.db import models


class ExpiryAlert(models.Model):
    """That a token was mailed as expiring within ``threshold`` seconds.

    The unique pair is what makes an alert go out once per token and threshold however often
    ``send_expiry_alerts`` runs; the row goes with its token when the token is pruned."""

    token = models.ForeignKey(
        "keys.IssuedToken", on_delete=models.CASCADE, related_name="expiry_alerts"
    )
    threshold = models.PositiveIntegerField(help_text="Seconds before the token's expiry.")
    sent_at = models.DateTimeField()

    class Meta:
        verbose_name = "expiry alert"
        constraints = [
            models.UniqueConstraint(
                fields=["token", "threshold"], name="expiry_alert_once_per_threshold"
            )
        ]

    def __str__(self) -> str:
        return f"expiry alert for {self.token_id} at {self.threshold}s"
