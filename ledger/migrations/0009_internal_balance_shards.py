"""The bank's own accounts stop being a lock every posting queues on (ledger.services.post):
their balance moves to InternalBalance shards, and their entries keep no running balance.

On SQLite, altering `balance_after` rebuilds the entry table, and its append-only trigger
(0002_ledger_triggers) goes with the old table: it is made again here. PostgreSQL alters the
column in place and keeps its triggers."""

import django.db.models.deletion
from django.db import migrations, models

SQLITE_TRIGGER = """CREATE TRIGGER IF NOT EXISTS ledger_entry_append_only
    BEFORE UPDATE ON ledger_entry
    BEGIN SELECT RAISE(ABORT, 'ledger_entry is append-only: post a reversal instead'); END;"""


def restore_sqlite_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0008_ledger_check_run_readers"),
    ]

    operations = [
        migrations.AlterField(
            model_name="entry",
            name="balance_after",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(restore_sqlite_trigger, migrations.RunPython.noop),
        migrations.CreateModel(
            name="InternalBalance",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("shard", models.PositiveSmallIntegerField()),
                ("amount", models.BigIntegerField(default=0)),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="internal_shards",
                        to="ledger.account",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("account", "shard"), name="internal_balance_one_row_per_shard"
                    )
                ],
            },
        ),
    ]
