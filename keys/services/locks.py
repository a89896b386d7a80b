import hashlib

from django.db import connection


def serialize(name: str, *, shared: bool = False) -> None:
    """Inside a transaction, wait until no other transaction holds the lock ``name``
    (with ``shared``: until none holds it exclusively; shared holders do not exclude each other).

    On PostgreSQL a transaction-scoped advisory lock, released at commit or rollback. Its queue
    is fair: once an exclusive request waits, later shared requests wait behind it, so a steady
    stream of shared holders cannot starve it (row locks taken FOR SHARE can). SQLite needs
    nothing: the portal opens its transactions IMMEDIATE, so they already hold the database's
    one write lock from their first statement.
    """
    if connection.vendor != "postgresql":
        return
    lock_id = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [lock_id])


def issuer_keys_lock(issuer_id: int) -> str:
    """The lock that orders the key changes of one issuer (exclusive) against its mints
    (shared)."""
    return f"keys.issuer-keys.{issuer_id}"
