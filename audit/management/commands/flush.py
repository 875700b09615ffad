"""Django's `flush`, able to empty the audit trail on SQLite too.

The audit table refuses DELETE by trigger (`audit/triggers.py`). PostgreSQL's flush is a
TRUNCATE, which row triggers do not see; SQLite's is a DELETE per table, which they do. So on
SQLite this lifts the delete guard for the flush alone and puts it back, whatever happens.
Nothing else deletes audit records."""

from django.core.management.commands.flush import Command as DjangoFlush
from django.db import connections

from audit.triggers import SQLITE_DROP_NO_DELETE, SQLITE_NO_DELETE


class Command(DjangoFlush):
    def handle(self, **options):
        connection = connections[options["database"]]
        if connection.vendor != "sqlite" or "audit_auditrecord" not in (
            connection.introspection.table_names()
        ):
            return super().handle(**options)
        with connection.cursor() as cursor:
            cursor.execute(SQLITE_DROP_NO_DELETE)
        try:
            return super().handle(**options)
        finally:
            with connection.cursor() as cursor:
                cursor.execute(SQLITE_NO_DELETE)
