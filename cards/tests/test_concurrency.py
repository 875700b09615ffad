"""Card payments under real concurrency: threads on their own connections, released together,
against the real database (PostgreSQL row locks, or SQLite's IMMEDIATE transactions). The
daily limit and the balance are checked under the account's lock, so they hold."""

from collections import Counter

import pytest

from cards.errors import (
    CardInsufficientFundsError,
    CardLimitExceededError,
    InvalidCardError,
)
from cards.models import Card, CardPayment
from cards.tests.factories import issued_card, pay, wrong_cvc
from ledger.tests.factories import balance_of
from ledger.tests.test_concurrency import assert_books_ok, run_threads, unexpected

pytestmark = pytest.mark.django_db(transaction=True)


def outcomes_of(results) -> Counter:
    return Counter(
        "ok" if kind == "ok" else type(value).__name__ for _, per in results for kind, value in per
    )


def payments(issued, amount: int, per_thread: int):
    def work(index: int) -> list:
        done = []
        for _ in range(per_thread):
            try:
                done.append(("ok", pay(issued, amount=amount, merchant=f"Shop {index}")))
            except Exception as exc:
                done.append(("error", exc))
        return done

    return work


def test_many_payments_near_the_daily_limit_approve_exactly_the_limit():
    issued = issued_card(amount=100_000, daily_limit=10_000)
    threads, per_thread, amount = 8, 3, 1_000  # demand: 24,000 against a limit of 10,000

    results = run_threads(threads, payments(issued, amount, per_thread))

    assert unexpected([o for _, per in results for o in per]) == []
    assert outcomes_of(results) == {
        "ok": 10,
        CardLimitExceededError.__name__: threads * per_thread - 10,
    }
    assert sum(CardPayment.objects.values_list("amount", flat=True)) == 10_000
    assert balance_of(issued.card.account) == 90_000
    assert_books_ok()


def test_many_payments_against_a_small_balance_never_overdraw():
    issued = issued_card(amount=5_000, daily_limit=100_000)

    results = run_threads(6, payments(issued, 1_000, 2))

    assert outcomes_of(results) == {"ok": 5, CardInsufficientFundsError.__name__: 7}
    assert balance_of(issued.card.account) == 0
    assert_books_ok()


def test_concurrent_wrong_cvcs_are_all_counted_and_freeze_the_card(settings):
    issued = issued_card()
    bad = wrong_cvc(issued)

    def guess(index: int):
        try:
            pay(issued, cvc=bad)
        except InvalidCardError:
            return "declined"
        return "approved"

    results = run_threads(8, guess)

    assert results == [("ok", "declined")] * 8
    card = Card.objects.get(pk=issued.card.pk)
    assert card.cvc_failures == 8 and card.status == "frozen"
    assert not CardPayment.objects.exists()
