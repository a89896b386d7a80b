"""Gunicorn's settings, from the environment: the image's command and a systemd unit both use
this file, from the repository root (``gunicorn --config docker/gunicorn.conf.py portal.wsgi``).

A value that is not a whole number stops gunicorn before it binds, with the variable named:
a typo in a deployment should fail at start, not run with a default nobody chose.
"""

import os
import sys

from portal.env import env_bool, env_choice

# Beyond this many workers a host gains little and holds one more copy of the application and
# its database connections each; run more hosts (or GUNICORN_THREADS) instead.
MAX_DEFAULT_WORKERS = 8


def _whole_number(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        sys.exit(f"{name} must be a whole number; got {raw!r}")
    if value < minimum:
        sys.exit(f"{name} must be at least {minimum}; got {raw!r}")
    return value


def _usable_cpus() -> int:
    # The CPUs this process may run on (a container's cpuset), not all of the host's.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


bind = [
    address.strip()
    for address in os.environ.get("PORTAL_BIND", "0.0.0.0:8000").split(",")
    if address.strip()
]
workers = _whole_number(
    "GUNICORN_WORKERS", min(2 * _usable_cpus() + 1, MAX_DEFAULT_WORKERS), minimum=1
)
threads = _whole_number("GUNICORN_THREADS", 1, minimum=1)
timeout = _whole_number("GUNICORN_TIMEOUT", 30, minimum=1)
graceful_timeout = _whole_number("GUNICORN_GRACEFUL_TIMEOUT", 30, minimum=1)

# Logs to the standard streams, for docker logs and journald: requests on stdout, gunicorn's own
# messages on stderr. The request id (X-Request-ID, also in the portal's log lines) ties each
# request to what the application logged about it.
accesslog = "-"
errorlog = "-"
access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s" %({x-request-id}o)s'
)
# In the application's format (portal/settings.py: PORTAL_LOG_FORMAT, JSON unless DJANGO_DEBUG
# is on): JSON lines, a request's fields each in its own key.
if (
    env_choice(
        "PORTAL_LOG_FORMAT", ("json", "text"), "text" if env_bool("DJANGO_DEBUG", True) else "json"
    )
    == "json"
):
    logger_class = "portal.gunicorn_logging.JsonLinesLogger"

# The workers' heartbeat files in memory: on a container's overlay filesystem a slow write can
# make a busy worker look dead and get it killed. Gunicorn makes them with mkstemp and unlinks
# them at once, so a shared folder is safe here.
SHARED_MEMORY = "/dev/shm"  # noqa: S108
if os.path.isdir(SHARED_MEMORY):
    worker_tmp_dir = SHARED_MEMORY

# No control socket: by default it sits in $HOME, which the image's user cannot write and which
# every gunicorn of one user would share. Signals manage the server (docker stop, systemctl).
control_socket_disable = True
