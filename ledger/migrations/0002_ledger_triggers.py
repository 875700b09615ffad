"""The database guards the ledger, not only the code.

PostgreSQL: a deferred constraint trigger refuses, at commit, any transaction whose entries
do not sum to zero per currency or that has fewer than two entries; and posted entries and
transactions cannot be updated or deleted. SQLite: entries and transactions cannot be
updated (deleting is left to the test runner's flush; nothing in the code deletes them, and
`ledger_check` proves the sums on every backend).
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION ledger_transaction_balanced() RETURNS trigger AS $$
BEGIN
    IF (SELECT COUNT(*) FROM ledger_entry WHERE transaction_id = NEW.transaction_id) < 2 THEN
        RAISE EXCEPTION 'ledger transaction % has fewer than two entries', NEW.transaction_id
            USING ERRCODE = '23514';
    END IF;
    IF EXISTS (
        SELECT 1 FROM ledger_entry WHERE transaction_id = NEW.transaction_id
        GROUP BY currency HAVING SUM(amount) <> 0
    ) THEN
        RAISE EXCEPTION 'ledger transaction % does not sum to zero', NEW.transaction_id
            USING ERRCODE = '23514';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER ledger_entry_balanced
    AFTER INSERT OR UPDATE ON ledger_entry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balanced();

CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: post a reversal instead', TG_TABLE_NAME
        USING ERRCODE = '23514';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_transaction_append_only BEFORE UPDATE OR DELETE ON ledger_transaction
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS ledger_transaction_append_only ON ledger_transaction;
DROP TRIGGER IF EXISTS ledger_entry_append_only ON ledger_entry;
DROP FUNCTION IF EXISTS ledger_append_only();
DROP TRIGGER IF EXISTS ledger_entry_balanced ON ledger_entry;
DROP FUNCTION IF EXISTS ledger_transaction_balanced();
"""

SQLITE_FORWARD = [
    """CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE ON ledger_entry
       BEGIN SELECT RAISE(ABORT, 'ledger_entry is append-only: post a reversal instead'); END;""",
    """CREATE TRIGGER ledger_transaction_append_only BEFORE UPDATE ON ledger_transaction
       BEGIN SELECT RAISE(ABORT, 'ledger_transaction is append-only: post a reversal instead'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS ledger_entry_append_only;",
    "DROP TRIGGER IF EXISTS ledger_transaction_append_only;",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        # params=None: the PL/pgSQL's own `%` placeholders are not query parameters.
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
