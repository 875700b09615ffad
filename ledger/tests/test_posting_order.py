"""Posting order comes from the database, not from an app server's clock; and the bank's own
accounts are posted to without a lock every posting queues on (ledger.services.post).

Skewed clocks are made by replacing `ledger.clock.now`, the app's clock, on one "host" (a
thread, or every other posting) so that it runs hours behind: the history of an account must
still be its posting order, with every `balance_after` the running sum in that order."""

import random
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from ledger import clock, posting_sql, services
from ledger.checks import check_ledger
from ledger.models import Account, Entry, InternalBalance
from ledger.selectors import entries_for
from ledger.tests.factories import AccountFactory, funded_account, send

SKEW = timedelta(hours=3)
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and clock_timestamp() are PostgreSQL's"
)


def skewed_clock(monkeypatch, is_behind) -> None:
    """`ledger.clock.now` runs SKEW behind whenever `is_behind()` says so."""
    real = clock.now
    monkeypatch.setattr(clock, "now", lambda: real() - SKEW if is_behind() else real())


def assert_history_is_the_running_sum(account: Account) -> list[Entry]:
    """The account's history (newest first, as every reader orders it): each entry's
    balance_after is the one before it plus its amount, and it ends at the balance."""
    history = list(entries_for(account))
    oldest_first = history[::-1]
    running = 0
    for entry in oldest_first:
        running += entry.amount
        assert entry.balance_after == running, (entry, running)
    account.refresh_from_db()
    assert running == account.balance
    times = [entry.created_at for entry in oldest_first]
    assert times == sorted(times) and len(set(times)) == len(times)  # strictly increasing
    return history


@pytest.mark.django_db
def test_post_orders_entries_by_the_database_not_a_skewed_app_clock(monkeypatch):
    account, payer = AccountFactory(), funded_account(100_000)
    postings = iter(range(1_000))
    skewed_clock(monkeypatch, lambda: next(postings) % 2 == 1)  # every other posting: behind

    posted = []
    for amount in (100, 200, 300, 400, 500, 600):
        posted.append(send(payer, account, amount).pk)
        posted.append(services.withdraw(account=account, amount=amount // 2, initiated_by=None).pk)

    history = assert_history_is_the_running_sum(account)
    assert [entry.transaction_id for entry in reversed(history)] == posted  # posting order
    assert check_ledger().ok


@pytest.mark.django_db
def test_post_still_takes_the_demo_seeds_posting_time():
    account = AccountFactory()
    moment = timezone.now() - timedelta(days=90)

    with clock.posting_time(moment):
        txn = services.deposit(account=account, amount=100, initiated_by=None)

    assert txn.created_at == moment
    assert set(txn.entries.values_list("created_at", flat=True)) == {moment}


@on_postgresql
@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_post_keeps_posting_order_with_two_hosts_hours_apart(monkeypatch):
    """Two threads post to one account at once, one with its app clock three hours behind."""
    account = funded_account(1_000_000)
    payees = [AccountFactory(), AccountFactory()]
    skewed: list[threading.Thread] = []  # the host whose clock is behind
    skewed_clock(monkeypatch, lambda: threading.current_thread() in skewed)
    barrier = threading.Barrier(2)
    errors = []

    def host(index: int) -> None:
        if index == 1:
            skewed.append(threading.current_thread())
        rng = random.Random(index)
        try:
            barrier.wait(timeout=30)
            for _ in range(25):
                if rng.random() < 0.5:
                    send(account, payees[index], rng.randint(1, 500))
                else:
                    services.deposit(account=account, amount=rng.randint(1, 500), initiated_by=None)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=host, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    history = assert_history_is_the_running_sum(account)
    assert len(history) == 51  # the funding deposit and 50 postings
    assert check_ledger().ok


@on_postgresql
@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_lock_reads_the_database_clock_after_waiting_for_the_lock():
    """`now()` or `statement_timestamp()` would be read when the waiting statement began,
    before the holder committed; the posting's time must be after the holder's commit."""
    account = AccountFactory()
    holding, release = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def holder() -> None:
        try:
            with transaction.atomic():
                posting_sql.lock_accounts(account.pk)
                holding.set()
                release.wait(30)
                with connection.cursor() as cursor:
                    cursor.execute("SELECT clock_timestamp()")
                    seen["released"] = cursor.fetchone()[0]
        finally:
            connection.close()

    def waiter() -> None:
        try:
            holding.wait(30)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                seen["pid"] = cursor.fetchone()[0]
            with transaction.atomic():
                seen["locked_at"] = posting_sql.lock_accounts(account.pk)[account.pk].locked_at
        finally:
            connection.close()

    threads = [threading.Thread(target=holder), threading.Thread(target=waiter)]
    for thread in threads:
        thread.start()
    holding.wait(30)
    deadline = time.monotonic() + 30
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:  # until the waiter is queued on the row lock
            cursor.execute(
                "SELECT 1 FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock'",
                [seen.get("pid", 0)],
            )
            if cursor.fetchone():
                break
    release.set()
    for thread in threads:
        thread.join(30)

    assert seen["locked_at"] > seen["released"]


# --- the bank's own accounts ------------------------------------------------------------------


@pytest.mark.django_db
def test_deposits_add_to_the_settlement_accounts_shards_not_its_row():
    accounts = [AccountFactory() for _ in range(20)]
    for index, account in enumerate(accounts):
        services.deposit(account=account, amount=100 + index, initiated_by=None)

    bank = services.settlement_account("EUR")
    shards = InternalBalance.objects.filter(account=bank)
    assert bank.balance == 0  # the row is never written by a posting
    assert 1 < shards.count() <= InternalBalance.SHARDS  # spread, one row per shard at most
    assert shards.aggregate(total=Sum("amount"))["total"] == -sum(100 + i for i in range(20))
    assert bank.ledger_balance() == -sum(100 + i for i in range(20))
    assert set(Entry.objects.filter(account=bank).values_list("balance_after", flat=True)) == {None}
    assert check_ledger().ok


@on_postgresql
@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_deposit_does_not_wait_for_the_settlement_accounts_row():
    """Another transaction holds the settlement account's row lock, as a posting of the old
    design did for its whole transaction: a deposit still posts (it waited on that one row
    before, as every deposit, withdrawal and card payment did)."""
    account = AccountFactory()
    bank = services.settlement_account("EUR")
    holding, release = threading.Event(), threading.Event()

    def holder() -> None:
        try:
            with transaction.atomic():
                posting_sql.lock_accounts(bank.pk)
                holding.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    holding.wait(30)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # a wait would fail the test, not hang it
        services.deposit(account=account, amount=700, initiated_by=None)
    finally:
        release.set()
        thread.join(30)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")

    account.refresh_from_db()
    assert account.balance == 700
    assert check_ledger().ok
