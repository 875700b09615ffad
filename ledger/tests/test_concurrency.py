"""The ledger under real concurrency: real threads, each on its own database connection,
released together by a barrier, against the real database (SQLite in WAL mode with
IMMEDIATE transactions, or PostgreSQL with row locks).

Every test asserts that only domain errors (`BankError`) ever reached a caller: no
deadlock, no "database is locked", no serialization failure; that no customer balance went
below zero; and that `check_ledger()` still proves the books.
"""

import random
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum

from accounts.tests.factories import UserFactory
from conftest import bearer
from core.errors import BankError, Replay
from ledger.checks import check_ledger
from ledger.errors import AccountInactiveError, ApprovalClosedError, InsufficientFundsError
from ledger.idempotency import Idempotency, fingerprint
from ledger.models import Account, Entry, IdempotencyKey, Transaction
from ledger.services import (
    approve_request,
    close_account,
    deposit,
    freeze_account,
    reverse,
    withdraw,
)
from ledger.tests.factories import AccountFactory, account_for, funded_account, send

pytestmark = pytest.mark.django_db(transaction=True)

JOIN_TIMEOUT = 60  # seconds; a thread still alive after this is a hang, reported as a failure


# --- helpers ------------------------------------------------------------------------------


def run_threads(count: int, work: Callable[[int], Any]) -> list[tuple[str, Any]]:
    """Run `work(i)` in `count` threads released together. Each result is ("ok", value) or
    ("error", exception); every thread closes its own database connection."""
    barrier = threading.Barrier(count)
    results: list[tuple[str, Any]] = [("missing", None)] * count

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=JOIN_TIMEOUT)
            results[index] = ("ok", work(index))
        except BaseException as exc:
            results[index] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


def unexpected(outcomes: list) -> list[BaseException]:
    """Everything a caller got that is not a result or a domain refusal."""
    return [
        value
        for kind, value in outcomes
        if kind != "ok" and not isinstance(value, BankError | Replay)
    ]


def assert_books_ok() -> None:
    report = check_ledger()
    assert report.ok, report.problems
    assert not Account.objects.filter(balance__lt=0).exclude(type="internal").exists()


def balances(*accounts: Account) -> list[int]:
    by_pk = dict(
        Account.objects.filter(pk__in=[a.pk for a in accounts]).values_list("pk", "balance")
    )
    return [by_pk[a.pk] for a in accounts]


# --- random traffic -----------------------------------------------------------------------


def test_random_transfers_between_few_accounts_keep_the_books():
    accounts = [funded_account(amount) for amount in (3000, 1200, 400, 1)]
    total = sum(balances(*accounts))
    threads, per_thread = 8, 25

    def work(index: int) -> list:
        rng = random.Random(index)
        outcomes = []
        for _ in range(per_thread):
            source, destination = rng.sample(accounts, 2)
            amount = rng.choice([1, 50, 200, 700, 1500, 5000])  # some overdraw on purpose
            try:
                send(
                    source,
                    destination,
                    amount,
                    initiated_by=source.holder.user,
                )
                outcomes.append(("ok", amount))
            except Exception as exc:
                outcomes.append(("error", exc))
        return outcomes

    results = run_threads(threads, work)

    assert unexpected(results) == []
    outcomes = [outcome for _, per in results for outcome in per]
    assert unexpected(outcomes) == []
    refused = [e for kind, e in outcomes if kind == "error"]
    assert all(isinstance(e, InsufficientFundsError) for e in refused)
    posted = len(outcomes) - len(refused)
    assert Transaction.objects.filter(kind="transfer").count() == posted
    assert sum(balances(*accounts)) == total
    assert_books_ok()


def test_random_mixed_traffic_keeps_the_books_and_proves_them_live():
    """Transfers, deposits and withdrawals at once (the settlement account is a hot row too),
    while another thread runs the ledger proof: the books prove at every moment."""
    accounts = [funded_account(amount) for amount in (2000, 500, 1)]
    writers = 5
    done = threading.Event()
    finished = Counter()

    def move_money(index: int) -> list:
        rng = random.Random(1000 + index)
        outcomes = []
        for _ in range(15):
            account = rng.choice(accounts)
            amount = rng.choice([10, 300, 2500])
            op = rng.choice(["transfer", "deposit", "withdraw"])
            try:
                if op == "transfer":
                    other = rng.choice([a for a in accounts if a.pk != account.pk])
                    send(account, other, amount)
                elif op == "deposit":
                    deposit(account=account, amount=amount, initiated_by=None)
                else:
                    withdraw(account=account, amount=amount, initiated_by=None)
                outcomes.append(("ok", op))
            except Exception as exc:
                outcomes.append(("error", exc))
        finished[index] += 1
        if len(finished) == writers:
            done.set()
        return outcomes

    def prove(_: int) -> list:
        problems = []
        while not done.wait(0.05):
            report = check_ledger()
            if not report.ok:
                problems.append(report.problems)
        return problems

    results = run_threads(writers + 1, lambda i: prove(i) if i == writers else move_money(i))

    assert unexpected(results) == []
    assert results[writers] == ("ok", [])  # no proof failed while money moved
    outcomes = [o for _, per in results[:writers] for o in per]
    assert unexpected(outcomes) == []
    assert {op for kind, op in outcomes if kind == "ok"} == {"transfer", "deposit", "withdraw"}
    assert_books_ok()


# --- one hot account ----------------------------------------------------------------------


def test_hot_account_pays_out_exactly_what_it_holds():
    balance, amount = 1000, 100
    source = funded_account(balance)
    destinations = [AccountFactory() for _ in range(3)]
    threads, per_thread = 8, 3  # demand: 2400 against 1000

    def work(index: int) -> list:
        outcomes = []
        for attempt in range(per_thread):
            destination = destinations[(index + attempt) % len(destinations)]
            try:
                send(
                    source,
                    destination,
                    amount,
                    initiated_by=source.holder.user,
                )
                outcomes.append(("ok", None))
            except Exception as exc:
                outcomes.append(("error", exc))
        return outcomes

    results = run_threads(threads, work)

    assert unexpected(results) == []
    outcomes = [o for _, per in results for o in per]
    assert sum(kind == "ok" for kind, _ in outcomes) == balance // amount
    refused = [e for kind, e in outcomes if kind == "error"]
    assert len(refused) == threads * per_thread - balance // amount
    assert all(isinstance(e, InsufficientFundsError) for e in refused)
    assert balances(source) == [balance - (balance // amount) * amount]
    assert sum(balances(*destinations)) == (balance // amount) * amount
    assert_books_ok()


def test_opposite_transfers_do_not_deadlock():
    a, b = funded_account(10_000), funded_account(10_000)
    rounds = 10

    def work(index: int) -> int:
        source, destination = (a, b) if index % 2 == 0 else (b, a)
        for _ in range(rounds):
            send(source, destination, 7)
        return index

    results = run_threads(8, work)

    assert [kind for kind, _ in results] == ["ok"] * 8, unexpected(results)
    assert balances(a, b) == [10_000, 10_000]  # as many rounds each way
    assert Transaction.objects.filter(kind="transfer").count() == 8 * rounds
    assert_books_ok()


def test_two_withdrawals_of_the_whole_balance_one_wins():
    account = funded_account(500)

    results = run_threads(2, lambda _: withdraw(account=account, amount=500, initiated_by=None))

    kinds = Counter(kind for kind, _ in results)
    assert kinds == {"ok": 1, "error": 1}
    refusal = next(value for kind, value in results if kind == "error")
    assert isinstance(refusal, InsufficientFundsError)
    assert balances(account) == [0]
    assert Transaction.objects.filter(kind="withdrawal").count() == 1
    assert_books_ok()


# --- idempotency --------------------------------------------------------------------------


def test_same_idempotency_key_over_http_posts_once():
    user = UserFactory()
    source = account_for(user, amount=10_000)
    destination = AccountFactory()
    body = {"from_account": str(source.pk), "to_account_number": destination.number, "amount": 250}
    threads = 20

    def work(_: int):
        client = bearer(user)
        response = client.post(
            "/api/v1/transfers/", body, format="json", HTTP_IDEMPOTENCY_KEY="pay-rent-2026-03"
        )
        return response.status_code, response.json(), response.headers.get("Idempotent-Replayed")

    results = run_threads(threads, work)

    assert unexpected(results) == []
    answers = [value for _, value in results]
    assert [status for status, _, _ in answers] == [201] * threads, answers
    bodies = {repr(sorted(body.items())) for _, body, _ in answers}
    assert len(bodies) == 1
    replayed = Counter(header for _, _, header in answers)
    assert replayed == {"true": threads - 1, None: 1}
    assert Transaction.objects.filter(kind="transfer").count() == 1
    assert IdempotencyKey.objects.count() == 1
    assert balances(source, destination) == [10_000 - 250, 250]
    assert_books_ok()


def test_same_idempotency_key_with_two_bodies_over_http_one_wins():
    """Two different requests race under one key: one posts, its twins replay it, and the
    other body is a 409, never a second posting."""
    user = UserFactory()
    source = account_for(user, amount=10_000)
    destination = AccountFactory()
    bodies = [
        {"from_account": str(source.pk), "to_account_number": destination.number, "amount": a}
        for a in (100, 200)
    ]
    threads = 10

    def work(index: int):
        response = bearer(user).post(
            "/api/v1/transfers/", bodies[index % 2], format="json", HTTP_IDEMPOTENCY_KEY="k-2"
        )
        return index % 2, response.status_code, response.json()

    results = run_threads(threads, work)

    assert unexpected(results) == []
    answers = [value for _, value in results]
    (winner,) = {body["amount"] for _, status, body in answers if status == 201}
    for which, status, body in answers:
        if bodies[which]["amount"] == winner:
            assert status == 201
        else:
            assert (status, body["error"]["code"]) == (409, "idempotency_conflict")
    assert Transaction.objects.filter(kind="transfer").count() == 1
    assert balances(source, destination) == [10_000 - winner, winner]
    assert_books_ok()


def test_same_idempotency_key_in_the_service_posts_once():
    user = UserFactory()
    source, destination = account_for(user, amount=1000), AccountFactory()
    request_print = fingerprint(method="POST", path="/api/v1/transfers/", body={"amount": 100})
    threads = 20

    def work(_: int):
        idempotency = Idempotency(
            scope=f"user:{user.pk}",
            key="same-key",
            fingerprint=request_print,
            respond=lambda txn: (201, {"id": str(txn.pk)}),
        )
        txn = send(
            source,
            destination,
            100,
            initiated_by=user,
            idempotency=idempotency,
        )
        return idempotency.response, txn.pk

    results = run_threads(threads, work)

    assert unexpected(results) == []
    firsts = [value for kind, value in results if kind == "ok"]
    replays = [value for kind, value in results if kind == "error"]
    assert len(firsts) == 1
    assert len(replays) == threads - 1
    assert all(isinstance(replay, Replay) for replay in replays)
    ((response, txn_pk),) = firsts
    assert response == (201, {"id": str(txn_pk)})
    assert {(r.status_code, r.body["id"]) for r in replays} == {(201, str(txn_pk))}
    assert Transaction.objects.filter(kind="transfer").count() == 1
    assert balances(source, destination) == [900, 100]
    assert_books_ok()


def test_idempotency_key_refused_first_runs_again_on_retry():
    """A refusal stores nothing: of concurrent retries of an overdraft, none posts, and once
    the money is there the same key runs."""
    user = UserFactory()
    source, destination = account_for(user, amount=50), AccountFactory()

    def attempt():
        idempotency = Idempotency(
            scope=f"user:{user.pk}",
            key="k",
            fingerprint="f",
            respond=lambda txn: (201, {"id": str(txn.pk)}),
        )
        return send(
            source,
            destination,
            100,
            initiated_by=user,
            idempotency=idempotency,
        )

    results = run_threads(6, lambda _: attempt())

    assert all(isinstance(value, InsufficientFundsError) for _, value in results), results
    assert IdempotencyKey.objects.count() == 0
    deposit(account=source, amount=50, initiated_by=None)
    attempt()
    assert balances(source, destination) == [0, 100]
    assert_books_ok()


# --- freeze against transfers -------------------------------------------------------------


def test_freeze_racing_transfers_blocks_every_later_posting():
    account, other = funded_account(100_000), funded_account(100_000)
    staff = UserFactory(is_staff=True)
    threads, per_thread = 6, 8

    def work(index: int):
        if index == 0:
            return ("freeze", freeze_account(account=account, reason="fraud check", by=staff))
        outcomes = []
        for attempt in range(per_thread):
            outgoing = (index + attempt) % 2 == 0
            source, destination = (account, other) if outgoing else (other, account)
            try:
                send(source, destination, 10)
                outcomes.append(("ok", None))
            except Exception as exc:
                outcomes.append(("error", exc))
        return ("transfers", outcomes)

    results = run_threads(threads, work)

    assert unexpected(results) == []
    outcomes = [o for _, (name, per) in results if name == "transfers" for o in per]
    assert unexpected(outcomes) == []
    refused = [e for kind, e in outcomes if kind == "error"]
    assert all(isinstance(e, AccountInactiveError) for e in refused)
    posted = len(outcomes) - len(refused)
    assert Entry.objects.filter(account=account).count() == 1 + posted  # 1: the funding
    frozen_at = account.status_changes.get(to_status="frozen").created_at
    # Entries take their time under the account's lock, which the freeze held until it
    # committed: a posting stamped after the freeze would have passed a frozen account.
    assert not Entry.objects.filter(account=account, created_at__gt=frozen_at).exists()
    account.refresh_from_db()
    assert account.status == "frozen"
    with pytest.raises(AccountInactiveError):
        send(other, account, 1)
    net = Entry.objects.filter(account=account, transaction__kind="transfer").aggregate(
        s=Sum("amount")
    )["s"]
    assert account.balance == 100_000 + (net or 0)
    assert_books_ok()


# --- first use of a currency, reversals, closing ------------------------------------------


def test_first_deposits_in_a_new_currency_create_one_settlement_account():
    """The bank's CHF account does not exist yet: concurrent first deposits race to create it
    (on PostgreSQL the losers hit the unique index and read the winner's row)."""
    accounts = [AccountFactory(currency="CHF") for _ in range(6)]

    results = run_threads(
        6, lambda i: deposit(account=accounts[i], amount=100 + i, initiated_by=None)
    )

    assert [kind for kind, _ in results] == ["ok"] * 6, unexpected(results)
    bank = Account.objects.get(type="internal", currency="CHF")
    assert bank.ledger_balance() == -sum(100 + i for i in range(6))
    assert balances(*accounts) == [100 + i for i in range(6)]
    assert_books_ok()


def test_concurrent_reversals_of_one_transaction_one_wins():
    source, destination = funded_account(1000), AccountFactory()
    original = send(source, destination, 400)

    results = run_threads(
        4, lambda _: reverse(original=original, initiated_by=None, reason="duplicate")
    )

    assert unexpected(results) == []
    kinds = Counter(type(value).__name__ for kind, value in results if kind == "error")
    assert sum(kind == "ok" for kind, _ in results) == 1
    assert kinds == {"AlreadyReversedError": 3}
    assert Transaction.objects.filter(kind="reversal").count() == 1
    assert balances(source, destination) == [1000, 0]
    assert_books_ok()


def test_close_racing_deposits_never_strands_money():
    """An empty account closed while deposits arrive: either the deposit came first and the
    close is refused (balance_not_zero), or the close came first and the deposit is refused."""
    account = AccountFactory()

    def work(index: int):
        if index == 0:
            return close_account(account=account, reason="customer left", by=None)
        return deposit(account=account, amount=5, initiated_by=None)

    results = run_threads(4, work)

    assert unexpected(results) == []
    account.refresh_from_db()
    deposited = Transaction.objects.filter(kind="deposit", entries__account=account).count()
    assert account.balance == 5 * deposited
    if account.status == "closed":
        assert account.balance == 0
        assert all(isinstance(v, AccountInactiveError) for k, v in results[1:] if k == "error")
    else:
        assert results[0][0] == "error"
        assert type(results[0][1]).__name__ == "BalanceNotZeroError"
    assert_books_ok()


def approver_login():
    """A staff member holding the approve permission directly: a transactional test's flush
    removes the roles (groups) the migrations made, not the permissions Django recreates."""
    from django.contrib.auth.models import Permission

    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="approve"))
    return user


def test_approvers_approving_one_request_at_once_post_it_once(settings):
    settings.APPROVAL_LIMIT = 500
    account = funded_account(10_000)
    teller = UserFactory(is_staff=True)
    request = deposit(account=account, amount=900, initiated_by=teller, description="Big")
    approvers = [approver_login() for _ in range(4)]

    outcomes = run_threads(4, lambda i: approve_request(approval=request, by=approvers[i]))

    assert not unexpected(outcomes), unexpected(outcomes)
    assert [kind for kind, _ in outcomes].count("ok") == 1, outcomes
    refused = [value for kind, value in outcomes if kind == "error"]
    assert all(isinstance(value, ApprovalClosedError) for value in refused), refused
    assert Transaction.objects.filter(kind="deposit", initiated_by=teller).count() == 1
    account.refresh_from_db()
    assert account.balance == 10_900
    request.refresh_from_db()
    assert request.status == "approved" and request.decided_by in approvers
    assert_books_ok()
