import getpass
import ipaddress
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser

from keys.models.token import Channel


@dataclass(frozen=True)
class Actor:
    """Who does something, through which door, from where: recorded on every audit event."""

    user: AbstractBaseUser | None
    channel: str
    remote_addr: str | None = None
    name: str = ""

    @property
    def display_name(self) -> str:
        if self.user is not None:
            return self.user.get_username()
        return self.name

    @classmethod
    def cli(cls, user: AbstractBaseUser | None = None) -> "Actor":
        return cls(user=user, channel=Channel.CLI, name=f"cli:{_os_user()}")

    @classmethod
    def system(cls, what: str) -> "Actor":
        return cls(user=None, channel="system", name=what)

    @classmethod
    def from_request(cls, request, channel: str) -> "Actor":
        user = request.user if request.user.is_authenticated else None
        return cls(user=user, channel=channel, remote_addr=client_address(request))


def client_address(request) -> str | None:
    """REMOTE_ADDR as the WSGI server saw it, normalised, or None when it is not an address."""
    raw = request.META.get("REMOTE_ADDR") or ""
    try:
        return ipaddress.ip_address(raw).compressed
    except ValueError:
        return None


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, as in some containers
        return "unknown"
