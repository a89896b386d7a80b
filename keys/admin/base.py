from django.contrib import admin, messages

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


def report_exports(request, results) -> None:
    """One message per export target: success, or what was not done."""
    for result in results:
        level = messages.SUCCESS if result.ok else messages.ERROR
        messages.add_message(request, level, result.summary)


class ShownOnce(str):
    """A secret on the one page that shows it (a new token, a new API key): it renders as
    itself, but its repr() hides it. Django's template engine, with its logger at DEBUG, logs
    a failed variable lookup with the repr() of the whole context
    (tests/portal_tests/test_no_secret_leaks.py)."""

    def __repr__(self) -> str:
        return "<secret, shown once>"
