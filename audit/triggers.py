"""The database refuses to UPDATE or DELETE an audit record, on PostgreSQL and on SQLite.

Only emptying the whole database (`manage.py flush`: the test runner between transactional
tests, `seed --reset` on a demo) removes records. PostgreSQL's flush is a TRUNCATE, which row
triggers do not see. SQLite has no TRUNCATE (its flush is a DELETE per table), so the audit
app's `flush` command lifts the delete guard for that one command and puts it back."""

PG_FORWARD = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: audit records are never changed or removed',
        TG_TABLE_NAME USING ERRCODE = '23514';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_record_append_only BEFORE UPDATE OR DELETE ON audit_auditrecord
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS audit_record_append_only ON audit_auditrecord;
DROP FUNCTION IF EXISTS audit_append_only();
"""

SQLITE_NO_UPDATE = """CREATE TRIGGER audit_record_no_update BEFORE UPDATE ON audit_auditrecord
    BEGIN SELECT RAISE(ABORT, 'audit_auditrecord is append-only: never changed'); END;"""
SQLITE_NO_DELETE = """CREATE TRIGGER audit_record_no_delete BEFORE DELETE ON audit_auditrecord
    BEGIN SELECT RAISE(ABORT, 'audit_auditrecord is append-only: never removed'); END;"""
SQLITE_DROP_NO_DELETE = "DROP TRIGGER IF EXISTS audit_record_no_delete;"
SQLITE_BACKWARD = [SQLITE_DROP_NO_DELETE, "DROP TRIGGER IF EXISTS audit_record_no_update;"]


def install(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        # params=None: the PL/pgSQL's own `%` placeholders are not query parameters.
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_NO_UPDATE)
        schema_editor.execute(SQLITE_NO_DELETE)


def uninstall(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)
