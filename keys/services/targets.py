from pathlib import Path

from django.conf import settings

from keys.models import ExportTarget
from keys.models.target import DEFAULT_TARGET_NAME


def target_ensure_default() -> ExportTarget:
    """The target for NEURONEX_ETC_DIR exists without anyone creating it, and follows the
    setting when it changes."""
    target, created = ExportTarget.objects.get_or_create(
        name=DEFAULT_TARGET_NAME, defaults={"path": settings.NEURONEX_ETC_DIR}
    )
    if not created and target.path != settings.NEURONEX_ETC_DIR:
        target.path = settings.NEURONEX_ETC_DIR
        target.save(update_fields=["path"])
    if settings.DEBUG and Path(settings.NEURONEX_ETC_DIR).is_relative_to(settings.VAR_DIR):
        Path(settings.NEURONEX_ETC_DIR).mkdir(parents=True, exist_ok=True)
    return target
