from rest_framework.permissions import BasePermission


class RolePermission(BasePermission):
    """The view's ``required_perms`` maps an HTTP method to the Django permission the user's
    role must hold (keys/roles.py); a method not listed is refused."""

    def has_permission(self, request, view) -> bool:
        if not hasattr(view, request.method.lower()):
            # Let the view answer 405 to a signed-in user; a stranger learns nothing.
            return bool(request.user and request.user.is_authenticated)
        needed = getattr(view, "required_perms", {}).get(request.method)
        if needed is None and request.method in ("HEAD", "OPTIONS"):
            needed = view.required_perms.get("GET")
        return bool(
            needed
            and request.user
            and request.user.is_authenticated
            and request.user.has_perm(needed)
        )
