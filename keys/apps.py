from django.apps import AppConfig
from django.db.models.signals import post_migrate


class KeysConfig(AppConfig):
    name = "keys"
    verbose_name = "NeuronEX keys and tokens"

    def ready(self) -> None:
        from keys import signals

        signals.connect()
        post_migrate.connect(_ensure_default_target, sender=self)


def _ensure_default_target(sender, **kwargs) -> None:
    from keys.services.targets import target_ensure_default

    target_ensure_default()
