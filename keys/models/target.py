from pathlib import Path

from django.conf import settings
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
    issuers = models.ManyToManyField(
        "keys.Issuer",
        blank=True,
        related_name="export_targets",
        help_text="Export only these issuers; leave empty to export every issuer.",
    )
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

    @property
    def is_default(self) -> bool:
        return self.name == DEFAULT_TARGET_NAME

    @property
    def folder(self) -> Path:
        """The key folder. The default target is NEURONEX_ETC_DIR, whatever the row says."""
        return Path(settings.NEURONEX_ETC_DIR if self.is_default else self.path)


class ExportedFile(models.Model):
    """A key file the portal wrote into a target's folder, with the hash of what it wrote: the
    portal touches no other file, and a file whose content no longer matches is drift."""

    target = models.ForeignKey(ExportTarget, on_delete=models.CASCADE, related_name="files")
    file_name = models.CharField(max_length=255)
    issuer = models.ForeignKey(
        "keys.Issuer", null=True, on_delete=models.SET_NULL, related_name="exported_files"
    )
    kid = models.CharField(max_length=43)
    sha256 = models.CharField(max_length=64)
    written_at = models.DateTimeField()

    class Meta:
        ordering = ["target", "file_name"]
        verbose_name = "exported file"
        constraints = [
            models.UniqueConstraint(fields=["target", "file_name"], name="exported_file_unique")
        ]

    def __str__(self) -> str:
        return f"{self.target.name}:{self.file_name}"
