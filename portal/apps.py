from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    default = True  # this module holds a second config, for knox

    def ready(self) -> None:
        from portal import checks  # noqa: F401  (registers the system checks)


class ApiTokensConfig(AppConfig):
    """django-rest-knox, under the name its tokens have in this portal's admin."""

    name = "knox"
    verbose_name = "API tokens"
