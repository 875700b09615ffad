"""`manage.py ledger_check`: exit 0 when the books balance, exit 1 with a readable report when
they do not. Bad states are made by writing around the services, as a bug or an intruder would:
a cached balance is tampered with, or ledger rows are inserted directly (on PostgreSQL the
deferred trigger would refuse an unbalanced insert only at commit, which a test never reaches,
so the command is the second guard on both backends)."""

from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ledger import services
from ledger.models import Account, Entry, InternalBalance, Transaction
from ledger.tests.factories import AccountFactory, funded_account, send

pytestmark = pytest.mark.django_db


def ledger_check(*args) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("ledger_check", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def a_mix_of_operations() -> tuple[Account, Account]:
    a, b = funded_account(10_000), funded_account(500, "EUR")
    usd = funded_account(7_000, "USD")
    send(a, b, 1_200)
    send(b, a, 300)
    services.withdraw(account=a, amount=2_000, initiated_by=None)
    services.withdraw(account=usd, amount=7_000, initiated_by=None)
    services.reverse(original=send(a, b, 50), initiated_by=None, reason="error")
    services.close_account(account=usd, reason="moved away", by=None)
    a.refresh_from_db()
    b.refresh_from_db()
    return a, b


def insert_transaction(*legs: tuple[Account, int, int], currency: str | None = None) -> None:
    """Ledger rows written around the services: (account, amount, balance_after) per leg,
    with each account's cached balance moved by its amount (so only the entries are wrong)."""
    now = timezone.now()
    txn = Transaction.objects.create(kind="transfer", created_at=now)
    for account, amount, balance_after in legs:
        Entry.objects.create(
            transaction=txn,
            account=account,
            counterparty=None,
            amount=amount,
            currency=currency or account.currency,
            balance_after=balance_after,
            created_at=now,
        )
        Account.objects.filter(pk=account.pk).update(balance=F("balance") + amount)


@contextmanager
def rolled_back_afterwards():
    """Rows PostgreSQL's deferred trigger would refuse at commit go back to a savepoint before
    the test ends: Django's TestCase checks deferred constraints at teardown."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


# --- the books balance ----------------------------------------------------------------------


def test_ledger_check_passes_an_empty_ledger():
    code, out, _ = ledger_check()

    assert (code, "The books balance." in out) == (0, True)


def test_ledger_check_passes_after_a_mix_of_operations():
    a_mix_of_operations()

    code, out, err = ledger_check()

    assert code == 0
    assert "The books balance." in out
    assert "FAIL" not in out
    assert err == ""


def test_ledger_check_counts_what_it_checked():
    a_mix_of_operations()

    _, out, _ = ledger_check()

    transactions, entries = Transaction.objects.count(), Entry.objects.count()
    assert f"Checked {transactions} transactions, {entries} entries" in out


# --- the books do not balance ---------------------------------------------------------------


def test_ledger_check_fails_on_a_tampered_balance():
    a, _ = a_mix_of_operations()
    Account.objects.filter(pk=a.pk).update(balance=F("balance") + 100)

    code, out, err = ledger_check()

    assert code == 1
    assert "The books do NOT balance." in err
    assert "[FAIL] no cached balances that differ from the sum of entries" in out
    assert f"{a.number}: balance {a.balance + 100}, entries sum to {a.balance}" in out


def test_ledger_check_reports_the_bank_no_longer_summing_to_zero_after_tampering():
    a, _ = a_mix_of_operations()
    Account.objects.filter(pk=a.pk).update(balance=F("balance") + 100)

    _, out, _ = ledger_check()

    assert "[FAIL] no currencies in which the bank does not sum to zero" in out
    assert "EUR: +100" in out


def test_ledger_check_fails_on_a_tampered_shard_of_the_banks_own_account():
    a_mix_of_operations()
    bank = services.settlement_account("EUR")
    InternalBalance.objects.filter(account=bank).update(amount=F("amount") + 7)
    shards = InternalBalance.objects.filter(account=bank).count()

    code, out, _ = ledger_check()

    assert code == 1
    assert "[FAIL] no cached balances that differ from the sum of entries" in out
    assert f"{bank.number}: balance {bank.ledger_balance()}, entries sum to" in out
    assert f"EUR: +{7 * shards}" in out


def test_ledger_check_fails_on_a_running_balance_on_the_banks_own_account():
    a, _ = a_mix_of_operations()
    bank = services.settlement_account("EUR")
    insert_transaction((a, -10, a.balance - 10), (bank, 10, 10))  # moves the bank's row

    code, out, _ = ledger_check()

    assert code == 1
    assert "[FAIL] no entries of the bank's own accounts with a running balance" in out
    assert "[ok  ] no cached balances that differ from the sum of entries" in out


def test_ledger_check_leaves_untouched_checks_marked_ok():
    a, _ = a_mix_of_operations()
    Account.objects.filter(pk=a.pk).update(balance=F("balance") + 100)

    _, out, _ = ledger_check()

    assert "[ok  ] no transactions that do not sum to zero" in out


def test_ledger_check_fails_on_entries_whose_balance_after_is_wrong():
    a, b = a_mix_of_operations()
    insert_transaction((a, -10, a.balance - 10), (b, 10, 999_999))

    code, out, _ = ledger_check()

    assert code == 1
    assert "[FAIL] no entries whose balance_after is not the running sum" in out
    assert f"on {b.number}: balance_after 999999, running sum {b.balance + 10}" in out
    assert "[FAIL] no cached balances that differ from the last balance_after" in out


def test_ledger_check_fails_on_a_transaction_that_does_not_sum_to_zero():
    a, b = a_mix_of_operations()

    with rolled_back_afterwards():
        insert_transaction((a, -10, a.balance - 10), (b, 9, b.balance + 9))
        code, out, _ = ledger_check()

    assert code == 1
    assert "[FAIL] no transactions that do not sum to zero" in out
    assert "EUR: -1" in out


def test_ledger_check_fails_on_a_transaction_with_one_entry():
    a, _ = a_mix_of_operations()

    with rolled_back_afterwards():
        insert_transaction((a, 25, a.balance + 25))
        code, out, _ = ledger_check()

    assert code == 1
    assert "[FAIL] no transactions with fewer than two entries" in out


def test_ledger_check_fails_on_a_transaction_with_no_entries():
    a_mix_of_operations()
    empty = Transaction.objects.create(kind="transfer", created_at=timezone.now())

    code, out, _ = ledger_check()

    assert code == 1
    assert "[FAIL] no transactions with fewer than two entries" in out
    assert str(empty.pk) in out


def test_ledger_check_fails_on_an_entry_in_another_currency_than_its_account():
    a, b = funded_account(1_000), AccountFactory()
    insert_transaction((a, -10, 990), (b, 10, 10), currency="USD")

    code, out, _ = ledger_check()

    assert code == 1
    assert "[FAIL] no entries in another currency than their account" in out


def test_ledger_check_limit_caps_the_problems_listed():
    accounts = [funded_account(100) for _ in range(3)]
    Account.objects.filter(pk__in=[a.pk for a in accounts]).update(balance=F("balance") + 1)

    _, out, _ = ledger_check("--limit", "1")

    listed = [a.number for a in accounts if f"{a.number}: balance 101, entries sum" in out]
    assert len(listed) == 1
