"""Values the database writes as text exactly as keys.reports writes them in Python, for the
token export: a million rows formatted in SQL cost a fraction of what reading a datetime and
a UUID object per cell and formatting them in Python cost (bench/audit.py).

tests/keys_tests/test_sql_text.py holds each against its Python counterpart."""

from django.db.models import CharField, Func


class IsoTime(Func):
    """A datetime column as ``token_report.iso`` writes it: ISO 8601 in UTC with a ``Z``, the
    microseconds only when there are any (as ``datetime.isoformat``). NULL stays NULL."""

    output_field = CharField()

    def as_sql(self, compiler, connection, **extra_context):  # PostgreSQL
        column, params = compiler.compile(self.source_expressions[0])
        utc = f"({column} AT TIME ZONE 'UTC')"
        return (
            f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN "
            f"MOD(EXTRACT(MICROSECONDS FROM {utc})::integer, 1000000) = 0 THEN '' "
            f"ELSE to_char({utc}, '.US') END || 'Z'",
            params * 3,
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django stores "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC: str() of the naive datetime.
        column, params = compiler.compile(self.source_expressions[0])
        return f"(replace({column}, ' ', 'T') || 'Z')", params


class UuidText(Func):
    """A UUIDField as ``str(uuid)`` writes it: lower-case hex in 8-4-4-4-12 groups."""

    output_field = CharField()

    def as_sql(self, compiler, connection, **extra_context):  # PostgreSQL
        column, params = compiler.compile(self.source_expressions[0])
        return f"({column})::text", params

    def as_sqlite(self, compiler, connection, **extra_context):
        # Stored as 32 lower-case hex digits (Django's char(32) of uuid.hex).
        column, params = compiler.compile(self.source_expressions[0])
        groups = " || '-' || ".join(
            f"substr({column}, {start}, {length})"
            for start, length in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
        )
        return f"({groups})", params * 5
