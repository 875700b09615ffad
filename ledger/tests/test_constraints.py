"""The database guards the ledger even when the code is bypassed: these tests write around the
services on purpose and expect the database to refuse."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ledger import services
from ledger.models import Account, Entry, IdempotencyKey, Transaction
from ledger.numbers import new_account_number
from ledger.tests.factories import AccountFactory, funded_account, send

pytestmark = pytest.mark.django_db

not_postgres = connection.vendor != "postgresql"
delete_guard_postgres_only = pytest.mark.skipif(
    not_postgres,
    reason=f"{connection.vendor} has no delete trigger on ledger rows (the test runner's flush "
    "deletes them); PostgreSQL refuses deletes in the database",
)
deferred_trigger_postgres_only = pytest.mark.skipif(
    not_postgres,
    reason=f"{connection.vendor} has no deferred constraint triggers; on it ledger_check proves "
    "the sums (test_ledger_check.py)",
)


def bare_transaction(kind: str = "transfer") -> Transaction:
    return Transaction.objects.create(kind=kind, created_at=timezone.now())


def bare_entry(txn: Transaction, account: Account, amount: int, balance_after: int = 0) -> Entry:
    return Entry.objects.create(
        transaction=txn,
        account=account,
        amount=amount,
        currency=account.currency,
        balance_after=balance_after,
        created_at=txn.created_at,
    )


# --- check and unique constraints -----------------------------------------------------------


def test_entry_refuses_a_zero_amount():
    txn, account = bare_transaction(), AccountFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        bare_entry(txn, account, 0)


def test_account_refuses_a_negative_customer_balance():
    account = funded_account(100)

    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(balance=-1)


def test_account_allows_the_settlement_account_below_zero():
    bank = services.settlement_account("EUR")

    Account.objects.filter(pk=bank.pk).update(balance=-100)  # bypasses the services

    bank.refresh_from_db()
    assert bank.balance == -100


def test_account_refuses_a_duplicate_number():
    existing = AccountFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        AccountFactory(number=existing.number)


def test_account_refuses_a_customer_account_without_holder():
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(
            number=new_account_number(), type="checking", currency="EUR", holder=None
        )


def test_account_refuses_an_internal_account_with_a_holder():
    with pytest.raises(IntegrityError), transaction.atomic():
        AccountFactory(type=Account.Type.INTERNAL)


def test_account_refuses_a_second_settlement_account_for_a_currency():
    services.settlement_account("EUR")

    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(number=new_account_number(), type="internal", currency="EUR")


def test_account_refuses_an_unknown_status():
    account = AccountFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(status="gone")


def test_idempotency_key_refuses_a_duplicate_scope_and_key():
    IdempotencyKey.objects.create(scope="user:1", key="k", fingerprint="a")

    with pytest.raises(IntegrityError), transaction.atomic():
        IdempotencyKey.objects.create(scope="user:1", key="k", fingerprint="b")


def test_idempotency_key_allows_the_same_key_in_another_scope():
    IdempotencyKey.objects.create(scope="user:1", key="k", fingerprint="a")

    IdempotencyKey.objects.create(scope="user:2", key="k", fingerprint="a")

    assert IdempotencyKey.objects.filter(key="k").count() == 2


def test_transaction_refuses_a_reversal_that_names_no_original():
    with pytest.raises(IntegrityError), transaction.atomic():
        bare_transaction(kind="reversal")


def test_transaction_refuses_an_unknown_kind():
    with pytest.raises(IntegrityError), transaction.atomic():
        bare_transaction(kind="gift")


# --- append-only ----------------------------------------------------------------------------


def test_entry_cannot_be_updated():
    source = funded_account(1000)
    entry = Entry.objects.get(account=source)

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).update(amount=5)


def test_entry_balance_after_cannot_be_rewritten():
    source = funded_account(1000)
    entry = Entry.objects.get(account=source)

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).update(balance_after=999_999)


def test_transaction_cannot_be_updated():
    txn = send(funded_account(1000), AccountFactory(), 100)

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Transaction.objects.filter(pk=txn.pk).update(description="edited")


@delete_guard_postgres_only
def test_entry_cannot_be_deleted():
    entry = Entry.objects.filter(account=funded_account(1000)).get()

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).delete()


@delete_guard_postgres_only
def test_transaction_cannot_be_deleted():
    txn = send(funded_account(1000), AccountFactory(), 100)

    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM ledger_transaction WHERE id = %s", [txn.pk])


# --- balanced transactions, at commit --------------------------------------------------------


@deferred_trigger_postgres_only
@pytest.mark.django_db(transaction=True)
def test_transaction_refuses_unbalanced_entries_at_commit():
    a, b = AccountFactory(), AccountFactory()

    with pytest.raises(IntegrityError, match="does not sum to zero"), transaction.atomic():
        txn = bare_transaction()
        bare_entry(txn, a, -100)
        bare_entry(txn, b, 99)

    assert not Transaction.objects.exists()


@deferred_trigger_postgres_only
@pytest.mark.django_db(transaction=True)
def test_transaction_refuses_a_single_entry_at_commit():
    account = AccountFactory()

    with pytest.raises(IntegrityError, match="fewer than two"), transaction.atomic():
        bare_entry(bare_transaction(), account, 100)

    assert not Entry.objects.exists()


@deferred_trigger_postgres_only
@pytest.mark.django_db(transaction=True)
def test_transaction_accepts_balanced_entries_at_commit():
    a, b = AccountFactory(), AccountFactory()

    with transaction.atomic():
        txn = bare_transaction()
        bare_entry(txn, a, -100)
        bare_entry(txn, b, 100)

    assert Entry.objects.filter(transaction=txn).count() == 2
