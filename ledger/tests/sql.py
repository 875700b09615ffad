"""The SQL a statement ran as, for tests that read captured queries."""

import re

from django.db import connection

_EXECUTE = re.compile(r"EXECUTE (ledger_\w+)")


def as_planned(sql: str | None) -> str | None:
    """`sql` with each `EXECUTE ledger_...(...)` (ledger/posting_sql.py, "Planned once") read
    back as the statement this session prepared under that name (PostgreSQL's
    `pg_prepared_statements`); any other SQL as it is."""
    if not sql or not _EXECUTE.search(sql):
        return sql
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, statement FROM pg_prepared_statements")
        prepared = dict(cursor.fetchall())
    return _EXECUTE.sub(lambda match: prepared[match.group(1)], sql)
