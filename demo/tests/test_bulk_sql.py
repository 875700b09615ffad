"""demo/bulk_sql.py writes exactly the rows bulk_create would (its contract), on every backend."""

from datetime import UTC, datetime

import pytest
from django.forms.models import model_to_dict

from demo.bulk_sql import Table
from ledger.ids import uuid7
from ledger.models import Entry, Transaction
from ledger.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

TXN = ["id", "kind", "description", "initiated_by", "reverses", "created_at"]
ENTRY = [
    "id", "transaction", "account", "counterparty", "amount", "currency", "balance_after",
    "created_at",
]  # fmt: skip


def as_row(table: Table, row, columns: list[str]) -> tuple:
    """What the seed passes: each column's value through the table's `prep` for it."""
    meta = row._meta
    return tuple(table.prep[name](getattr(row, meta.get_field(name).attname)) for name in columns)


def rows(at: datetime):
    a, b = AccountFactory(currency="EUR"), AccountFactory(currency="EUR")
    txn = Transaction(id=uuid7(), kind="transfer", description="Zoë's café ☕", created_at=at)
    entries = [
        Entry(id=uuid7(), transaction=txn, account=a, counterparty=b, amount=-1234,
              currency="EUR", balance_after=-1234, created_at=at),
        Entry(id=uuid7(), transaction=txn, account=b, counterparty=a, amount=1234,
              currency="EUR", balance_after=1234, created_at=at),
    ]  # fmt: skip
    return txn, entries


def stored(txn: Transaction) -> list[dict]:
    fresh = Transaction.objects.get(pk=txn.pk)
    entries = Entry.objects.filter(transaction=txn).order_by("amount")
    drop = {"id", "transaction"}
    return [
        {k: v for k, v in model_to_dict(fresh).items() if k != "id"},
        *({k: v for k, v in model_to_dict(e).items() if k not in drop} for e in entries),
        [(e.created_at, e.currency) for e in entries],
    ]


def test_table_writes_what_bulk_create_writes():
    at = datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC)
    orm_txn, orm_entries = rows(at)
    Transaction.objects.bulk_create([orm_txn])
    Entry.objects.bulk_create(orm_entries)

    txn, entries = rows(at)
    # Same accounts as the ORM's rows, so that everything but the ids compares equal.
    for entry, twin in zip(entries, orm_entries, strict=True):
        entry.account, entry.counterparty = twin.account, twin.counterparty
    txn_table, entry_table = Table(Transaction, TXN), Table(Entry, ENTRY)
    txn_table.insert([as_row(txn_table, txn, TXN)])
    entry_table.insert([as_row(entry_table, entry, ENTRY) for entry in entries])

    assert stored(txn) == stored(orm_txn)


def test_table_refuses_columns_that_are_not_the_models():
    with pytest.raises(ValueError, match="writes"):
        Table(Transaction, ["id", "kind", "description", "created_at"])
