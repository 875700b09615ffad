"""Issued statements are immutable: the database refuses an UPDATE on both backends (and a
DELETE on PostgreSQL; on SQLite the test runner's flush must still empty the table). The
auditor and back office may read them (the roles of ledger/migrations/0004_roles.py)."""

from django.contrib.auth.management import create_permissions
from django.contrib.contenttypes.management import create_contenttypes
from django.db import migrations

READERS = ["back office", "auditor"]

PG_FORWARD = """
CREATE OR REPLACE FUNCTION statements_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'an issued statement is never changed: correct it in a later month'
        USING ERRCODE = '23514';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER statements_statement_immutable BEFORE UPDATE OR DELETE ON statements_statement
    FOR EACH ROW EXECUTE FUNCTION statements_immutable();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS statements_statement_immutable ON statements_statement;
DROP FUNCTION IF EXISTS statements_immutable();
"""
SQLITE_FORWARD = """CREATE TRIGGER statements_statement_immutable BEFORE UPDATE ON statements_statement
   BEGIN SELECT RAISE(ABORT, 'an issued statement is never changed: correct it in a later month'); END;"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS statements_statement_immutable;"


def immutable_forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def immutable_backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD)


def readers_forward(apps, schema_editor):
    """Idempotent; run again after ledger's roles migration (which sets the auditor to the
    view permissions of the apps it knows) it gives the statements readers theirs back."""
    alias = schema_editor.connection.alias
    app_config = apps.get_app_config("statements")
    app_config.models_module = True  # create_* skip an app without one; state apps have none
    create_contenttypes(app_config, verbosity=0, using=alias, apps=apps)
    create_permissions(app_config, verbosity=0, using=alias, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view = Permission.objects.using(alias).get(
        content_type__app_label="statements", codename="view_statement"
    )
    for group in Group.objects.using(alias).filter(name__in=READERS):
        group.permissions.add(view)


def readers_backward(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    alias = schema_editor.connection.alias
    view = (
        Permission.objects.using(alias)
        .filter(content_type__app_label="statements", codename="view_statement")
        .first()
    )
    if view is not None:
        for group in Group.objects.using(alias).filter(name__in=READERS):
            group.permissions.remove(view)


class Migration(migrations.Migration):
    dependencies = [("statements", "0001_statements"), ("ledger", "0004_roles")]

    operations = [
        migrations.RunPython(immutable_forward, immutable_backward),
        migrations.RunPython(readers_forward, readers_backward),
    ]
