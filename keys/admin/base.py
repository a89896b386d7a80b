from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from keys.errors import PortalError
from keys.services.actor import Actor


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that are evidence: viewable, never added, changed or deleted here."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def admin_actor(request) -> Actor:
    return Actor.from_request(request, channel="admin")


def as_validation_error(exc: PortalError) -> ValidationError:
    """A domain error as a form error on its field (or the whole form)."""
    if exc.field:
        return ValidationError({exc.field: exc.message})
    return ValidationError(exc.message)


def report_error(request, exc: PortalError) -> None:
    messages.error(request, exc.message)
