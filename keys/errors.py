"""Domain errors. Services raise these; each interface maps them to its own kind of answer
(a JSON error, an admin form error or message, a CommandError) in one place."""


class PortalError(Exception):
    """A request the portal refuses, with a message meant for the person who made it."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class InvalidInput(PortalError):
    code = "invalid"


class NotFound(PortalError):
    code = "not_found"


class Conflict(PortalError):
    """The request is well-formed but the current state forbids it."""

    code = "conflict"


class Unprocessable(PortalError):
    """The request contradicts an earlier one it claims to repeat."""

    code = "unprocessable"
