"""The seed's bulk inserts: ledger rows written as tuples, not model instances.

Why: `manage.py seed --users 1000 --months 12` writes about 160,000 transactions and 330,000
entries. Through `bulk_create` most of a minute went on building model instances and on the
SQL compiler preparing every value of every row, and on PostgreSQL multi-row INSERTs bound on
the client took 100 µs a row (`python -m cProfile manage.py seed`). Here each distinct value
is prepared once (an account's id for all its entries, a posting's moment for its transaction
and both entries) and the rows go to the database in the cheapest documented way each driver
offers: PostgreSQL's COPY (psycopg's `Cursor.copy`), SQLite's `executemany` of one prepared
INSERT.

The contract:

- **Which columns.** A `Table` names the model's columns in the caller's order and checks, when
  it is made, that they are exactly the concrete, non-generated fields `bulk_create` would
  write; a field added to the model later fails the seed loudly instead of being left out.
- **Which values.** The caller passes values already prepared for the database: every value
  of a column goes through `table.prep[name]`, which is that field's documented
  `get_db_prep_save(value, connection)`; integers and text go through unchanged, as their
  fields return them. So every backend stores what the ORM would store
  (`demo/tests/test_bulk_sql.py` compares the two, on SQLite and PostgreSQL).
- **What it runs.** `COPY <table> (<columns>) FROM STDIN` on PostgreSQL, `INSERT INTO <table>
  (<columns>) VALUES (%s, ...)` through Django's cursor `executemany` elsewhere: quoted names
  from the model's metadata, every value a parameter or a COPY field, inside the caller's
  transaction. Only inserts: the ledger's append-only triggers, its check constraints and (on
  PostgreSQL) its deferred balanced-transaction trigger see every row, as they see the ORM's.
"""

from collections.abc import Callable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

Prepare = Callable[[Any], Any]


class Table:
    def __init__(self, model: type[Model], columns: Sequence[str], using: str = DEFAULT_DB_ALIAS):
        fields = [field for field in model._meta.concrete_fields if not field.generated]
        if [field.name for field in fields] != list(columns):
            raise ValueError(
                f"{model._meta.label} writes {[f.name for f in fields]}, not {list(columns)}."
            )
        self.connection = connection = connections[using]
        q = connection.ops.quote_name
        table = q(model._meta.db_table)
        names = ", ".join(q(field.column) for field in fields)
        marks = ", ".join(["%s"] * len(fields))
        self.insert_sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608  # nosec B608  # quoted names from the model's metadata; every value is a parameter
        self.copy_sql = f"COPY {table} ({names}) FROM STDIN"
        self.prep: dict[str, Prepare] = {
            field.name: (lambda value, field=field: field.get_db_prep_save(value, connection))
            for field in fields
        }

    def insert(self, rows: Sequence[tuple]) -> None:
        if not rows:
            return
        with self.connection.cursor() as cursor:
            if self.connection.vendor == "postgresql":
                with cursor.cursor.copy(self.copy_sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(self.insert_sql, rows)
