"""Reading settings from the environment, with development defaults kept under ``var/``."""

import os
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}"
    )


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    if raw.strip().lower() not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}; got {raw!r}")
    return raw.strip().lower()


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}") from None


def env_duration(name: str, default: timedelta) -> timedelta:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    from keys.durations import DurationError, parse_duration

    try:
        return parse_duration(raw)
    except DurationError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from exc


def dev_secret_file(path: Path, make) -> str:
    """Return the secret stored in ``path``, creating it (mode 0600) on first use.

    Used only in development, so that ``make run`` needs nothing and a second run reuses the
    same secret key and encryption key instead of making earlier data unreadable.
    """
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """SECURE_PROXY_SSL_HEADER for an HTTP header name such as X-Forwarded-Proto: the proxy
    sets it to "https" for a request that came over HTTPS. Blank: no proxy header."""
    name = name.strip()
    if not name:
        return None
    if not all(part.isalnum() for part in name.split("-")):
        raise ImproperlyConfigured(
            f"DJANGO_SECURE_PROXY_SSL_HEADER must be an HTTP header name such as "
            f"X-Forwarded-Proto; got {name!r}"
        )
    return "HTTP_" + name.upper().replace("-", "_"), "https"


def cache_settings(url: str, folder: str) -> dict:
    """Redis when PORTAL_CACHE_URL is given (e.g. redis://redis:6379/0), else files in
    ``folder``."""
    url = url.strip()
    if not url:
        backend = "django.core.cache.backends.filebased.FileBasedCache"
        return {"BACKEND": backend, "LOCATION": folder}
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"PORTAL_CACHE_URL must be a Redis URL (redis://host:6379/0, rediss://... or "
            f"unix://...); got {url!r}"
        )
    return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
