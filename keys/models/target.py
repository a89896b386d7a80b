from django.db import models

from keys.neuronex.profiles import PROFILE_CHOICES, PROFILE_NEURONEX

DEFAULT_TARGET_NAME = "default"


class ExportTarget(models.Model):
    """One key folder of one NeuronEX, Neuron or eKuiper installation."""

    name = models.SlugField(max_length=64, unique=True)
    path = models.CharField(max_length=4096, help_text="Absolute path of the key folder.")
    profile = models.CharField(max_length=16, choices=PROFILE_CHOICES, default=PROFILE_NEURONEX)
    auto_export = models.BooleanField(
        default=True, help_text="Export after every key change, once it has committed."
    )
    enabled = models.BooleanField(default=True)
    last_export_at = models.DateTimeField(null=True, blank=True)
    last_export_ok = models.BooleanField(null=True, blank=True)
    last_export_result = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "export target"
        permissions = [("export_keys", "Can export public keys to targets")]

    def __str__(self) -> str:
        return self.name
