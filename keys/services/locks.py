import hashlib

from django.db import connection


def serialize(name: str) -> None:
    """Inside a transaction, wait until no other transaction holds the lock ``name``.

    On PostgreSQL a transaction-scoped advisory lock, released at commit or rollback. SQLite
    needs nothing: the portal opens its transactions IMMEDIATE, so they already hold the
    database's one write lock from their first statement.
    """
    if connection.vendor != "postgresql":
        return
    lock_id = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])
