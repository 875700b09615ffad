"""Two indexes every posting wrote and no query reads: `ledger_entry.account_id` (the
`entry_account_history` index starts with the account and serves every lookup by it) and
`ledger_idempotencykey.transaction_id` (nothing looks a key up by its transaction; without
it, storing a key's answer changes no indexed column and PostgreSQL can update the row in
place, as a heap-only tuple).

Only the indexes go: Django's AlterField would drop and add the foreign keys again, which
on PostgreSQL checks every entry under a lock that stops postings, and on SQLite rebuilds
the entry table (and loses its append-only trigger). The names are Django's own for these
indexes, the same on both databases."""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "ledger_entry_account_id_e9f5e345": ("ledger_entry", "account_id"),
    "ledger_idempotencykey_transaction_id_0bf7bca1": ("ledger_idempotencykey", "transaction_id"),
}


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0011_account_held"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "{table}" ("{column}")',
                )
                for name, (table, column) in INDEXES.items()
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="entry",
                    name="account",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="entries",
                        to="ledger.account",
                    ),
                ),
                migrations.AlterField(
                    model_name="idempotencykey",
                    name="transaction",
                    field=models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="ledger.transaction",
                    ),
                ),
            ],
        ),
    ]
