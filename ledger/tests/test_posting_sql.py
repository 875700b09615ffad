"""ledger/posting_sql.py writes exactly the rows the ORM would, on SQLite and PostgreSQL.

The same posting runs twice from the same state: once through the production path (the
idempotency claim, `posting_sql.lock_accounts`, `services.post`) and, after a rollback, once
through a plain-ORM reference (`select_for_update`, `bulk_create`, `F()` updates). The tables'
raw contents (every column, as the database stores it) must be identical.
"""

from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Now
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ledger import posting_sql, services
from ledger.idempotency import Idempotency
from ledger.models import Account, Entry, IdempotencyKey, InternalBalance, Transaction
from ledger.tests.factories import AccountFactory, clock, funded_account
from ledger.tests.sql import as_planned

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 3, 14, 15, 9, 26, 535897, tzinfo=UTC)
TABLES = [Account, Transaction, Entry, IdempotencyKey, InternalBalance]


class Rollback(Exception):
    pass


def table_rows() -> dict:
    """Every row of the ledger's tables as the database returns them, column names first."""
    q = connection.ops.quote_name
    rows = {}
    with connection.cursor() as cursor:
        for model in TABLES:
            meta = model._meta
            cursor.execute(f"SELECT * FROM {q(meta.db_table)} ORDER BY {q(meta.pk.column)}")
            rows[meta.db_table] = ([c[0] for c in cursor.description], cursor.fetchall())
    return rows


def field_values(row) -> list:
    return [getattr(row, f.attname) for f in row._meta.concrete_fields]


def copy(row):
    """A new, unsaved instance with the same field values."""
    return type(row)(**{f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields})


def respond(txn):
    return 201, {"id": str(txn.pk), "amount": 2_500, "note": "café ☕"}


def test_a_posting_writes_exactly_the_rows_the_orm_writes(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: MOMENT)  # the idempotency claim's time
    source = funded_account(10_000)
    destination = AccountFactory(currency=source.currency)
    user = source.holder.user
    legs = [(source.pk, -2_500), (destination.pk, 2_500)]

    # The production path, rolled back after its rows are read.
    idempotency = Idempotency(
        scope=f"user:{user.pk}", key="k-1", fingerprint="f" * 64, respond=respond
    )
    try:
        with transaction.atomic(), clock(MOMENT):
            idempotency.claim()
            locked = posting_sql.lock_accounts(source.pk, destination.pk)
            read = [field_values(account) for account in locked.values()]  # before post() adds
            txn = services.post(
                kind=Transaction.Kind.TRANSFER,
                legs=[(locked[pk], amount) for pk, amount in legs],
                initiated_by=user,
                description="Rent",
                idempotency=idempotency,
            )
            fast = table_rows()
            raise Rollback()
    except Rollback:
        pass
    assert Transaction.objects.filter(kind="transfer").count() == 0  # rolled back

    # The plain-ORM reference, writing the same rows.
    with transaction.atomic():
        IdempotencyKey.objects.create(
            id=idempotency._row_id,  # a PostgreSQL sequence does not roll back
            scope=idempotency.scope,
            key=idempotency.key,
            fingerprint=idempotency.fingerprint,
            created_at=MOMENT,
        )
        reference = Account.objects.filter(pk__in=[pk for pk, _ in legs]).select_for_update(
            no_key=True, of=("self",)
        )
        reference = {account.pk: account for account in reference.order_by("pk")}
        Transaction.objects.bulk_create([copy(txn)])
        Entry.objects.bulk_create([copy(entry) for entry in txn.posted_entries])
        for pk, amount in legs:
            Account.objects.filter(pk=pk).update(balance=F("balance") + amount)
        status, body = respond(txn)
        IdempotencyKey.objects.filter(pk=idempotency._row_id).update(
            response_status=status, response_body=body, transaction=txn.pk
        )
        orm = table_rows()

    assert list(locked) == sorted(locked) == list(reference)  # locked in primary-key order
    assert read == [field_values(a) for a in reference.values()]
    assert [[type(v) for v in values] for values in read] == [
        [type(v) for v in field_values(a)] for a in reference.values()
    ]
    assert fast == orm
    assert Account.objects.get(pk=source.pk).balance == 7_500


@pytest.mark.parametrize("holder_known", [False, True], ids=["joined", "known-holder"])
def test_lock_transfer_parties_marks_only_the_callers_own_account_as_the_source(holder_known):
    mine = funded_account(1_000)
    user = mine.holder.user
    if holder_known:  # as an API token's `hid` claim tells it (core/authentication.py)
        user.known_holder_id = mine.holder_id
    payee = AccountFactory(currency=mine.currency)
    someone_elses = funded_account(1_000)
    bank = services.settlement_account(mine.currency)

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        _, rows = posting_sql.lock_transfer_parties(
            user=user, from_account=mine.pk, to_account_number=payee.number
        )
        _, theirs = posting_sql.lock_transfer_parties(
            user=user, from_account=someone_elses.pk, to_account_number=payee.number
        )
        _, to_bank = posting_sql.lock_transfer_parties(
            user=user, from_account=mine.pk, to_account_number=bank.number
        )
        _, to_self = posting_sql.lock_transfer_parties(
            user=user, from_account=mine.pk, to_account_number=mine.number
        )

    assert [a.pk for a in rows] == sorted([mine.pk, payee.pk])
    assert {a.pk: bool(a.is_source) for a in rows} == {mine.pk: True, payee.pk: False}
    assert [field_values(a) for a in rows if a.pk == mine.pk] == [field_values(mine)]
    assert [(a.pk, bool(a.is_source)) for a in theirs] == [(payee.pk, False)]
    assert [a.pk for a in to_bank] == [mine.pk]  # the bank's own account is no payee
    assert [(a.pk, bool(a.is_source)) for a in to_self] == [(mine.pk, True)]
    sent = [as_planned(q["sql"]) for q in queries.captured_queries]
    locks = [sql for sql in sent if "ledger_account" in (sql or "")]
    assert ("accounts_holder" in locks[0]) is not holder_known


def test_lock_sql_is_the_orms_select_for_update_in_primary_key_order():
    a, b = AccountFactory(), AccountFactory()

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        posting_sql.lock_accounts(b.pk, a.pk)
        posting_sql.lock_accounts(a.pk, b.pk)

    sql = as_planned(queries.captured_queries[-1]["sql"])
    assert "ORDER BY" in sql
    if connection.features.has_select_for_update_of:
        assert "FOR NO KEY UPDATE OF" in sql


def test_balance_writes_are_relative_to_what_the_row_holds():
    account = funded_account(100)

    posting_sql.send([posting_sql.add_to_balance(account.pk, 5)])
    posting_sql.send([posting_sql.add_to_balance(account.pk, 5)])

    account.refresh_from_db()
    assert account.balance == 110


def test_writes_go_in_one_round_trip_on_postgresql_and_one_by_one_elsewhere():
    account, other = AccountFactory(), AccountFactory()
    writes = [posting_sql.add_to_balance(account.pk, 1), posting_sql.add_to_balance(other.pk, 1)]

    with CaptureQueriesContext(connection) as queries:
        posting_sql.send(writes)

    expected = 1 if connection.vendor == "postgresql" else len(writes)
    assert len(queries.captured_queries) == expected


def test_insert_rows_refuses_a_value_only_the_database_can_compute():
    txn = Transaction(kind=Transaction.Kind.DEPOSIT, created_at=Now())

    with pytest.raises(ValueError, match="needs the ORM"):
        posting_sql.insert_rows([txn])


def test_an_internal_leg_writes_exactly_the_shard_row_the_orm_writes(monkeypatch):
    """A deposit-shaped posting: the bank's leg goes to a shard row (made, then added to)."""
    monkeypatch.setattr(posting_sql.random, "randrange", lambda n: 3)
    account = AccountFactory()
    bank = services.settlement_account(account.currency)
    InternalBalance.objects.create(account=bank, shard=3, amount=-40)  # an earlier posting's

    try:
        with transaction.atomic(), clock(MOMENT):
            locked = posting_sql.lock_accounts(account.pk)
            txn = services.post(
                kind=Transaction.Kind.DEPOSIT,
                legs=[(bank, -2_500), (locked[account.pk], 2_500)],
                initiated_by=None,
            )
            fast = table_rows()
            raise Rollback()
    except Rollback:
        pass

    with transaction.atomic():
        Transaction.objects.bulk_create([copy(txn)])
        Entry.objects.bulk_create([copy(entry) for entry in txn.posted_entries])
        InternalBalance.objects.filter(account=bank, shard=3).update(amount=F("amount") - 2_500)
        Account.objects.filter(pk=account.pk).update(balance=F("balance") + 2_500)
        orm = table_rows()

    assert fast == orm
    assert [entry.balance_after for entry in txn.posted_entries] == [None, 2_500]
    bank.refresh_from_db()
    assert bank.ledger_balance() == -2_540


def test_add_to_internal_balance_makes_a_missing_shard_then_adds_to_it(monkeypatch):
    monkeypatch.setattr(posting_sql.random, "randrange", lambda n: n - 1)
    bank = services.settlement_account("EUR")

    posting_sql.send([posting_sql.add_to_internal_balance(bank.pk, -5)])
    posting_sql.send([posting_sql.add_to_internal_balance(bank.pk, -7)])

    shards = InternalBalance.objects.filter(account=bank)
    assert list(shards.values_list("shard", "amount")) == [(InternalBalance.SHARDS - 1, -12)]


def test_lock_accounts_carries_the_time_the_locks_were_held():
    account = AccountFactory()
    before = timezone.now()

    with transaction.atomic():
        locked = posting_sql.lock_accounts(account.pk)[account.pk]

    assert before <= locked.locked_at <= timezone.now()
