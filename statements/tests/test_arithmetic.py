"""The statement's arithmetic, from the immutable entries: opening + credits - debits ==
closing, one month's closing is the next month's opening, and every entry lands in its UTC
month, whatever the history."""

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.models import Entry
from ledger.tests.factories import AccountFactory
from statements.periods import Period, periods_between
from statements.selectors import statement_content
from statements.tests.helpers import (
    at,
    card_payment,
    deposit,
    month,
    opened,
    reverse,
    send,
    withdraw,
)

pytestmark = pytest.mark.django_db


def statements_of(account, first: str, last: str) -> list[dict]:
    """Oldest first."""
    return [
        statement_content(account, p) for p in reversed(periods_between(month(first), month(last)))
    ]


def assert_adds_up(statement: dict) -> None:
    assert (
        statement["opening_balance"] + statement["total_credits"] - statement["total_debits"]
        == statement["closing_balance"]
    )
    assert statement["entry_count"] == len(statement["entries"])


# (day offset from the account's opening, kind, amount); the opening is 2025-10-15 12:00 UTC
moves = st.lists(
    st.tuples(
        st.integers(0, 120),
        st.sampled_from(["deposit", "withdraw", "send", "receive", "card", "reverse"]),
        st.integers(1, 50_000),
    ),
    max_size=25,
)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(moves=moves)
def test_statements_add_up_and_chain_on_random_histories(moves):
    start = at(2025, 10, 15, 12)
    account = opened(start)
    other = opened(start)
    deposit(other, 10**9, start)
    reversible = []
    for offset, (days, kind, amount) in enumerate(sorted(moves, key=lambda m: m[0])):
        moment = start + timedelta(days=days, seconds=offset)
        balance = Entry.objects.filter(account=account).order_by("-created_at", "-id").first()
        balance = balance.balance_after if balance else 0
        if kind == "deposit":
            reversible.append(deposit(account, amount, moment))
        elif kind == "receive":
            send(other, account, amount, moment)
        elif kind == "reverse" and reversible:
            original = reversible.pop()
            if balance >= original.entries.get(account=account).amount:
                reverse(original, moment)
        elif kind in ("withdraw", "send", "card") and balance >= amount:
            if kind == "withdraw":
                withdraw(account, amount, moment)
            elif kind == "send":
                send(account, other, amount, moment)
            else:
                card_payment(account, amount, moment)

    statements = statements_of(account, "2025-10", "2026-02")

    assert statements[0]["opening_balance"] == 0  # the month the account was opened
    for statement in statements:
        assert_adds_up(statement)
    for earlier, later in itertools.pairwise(statements):
        assert later["opening_balance"] == earlier["closing_balance"]
    account.refresh_from_db()
    assert statements[-1]["closing_balance"] == account.balance
    assert (
        sum(s["entry_count"] for s in statements) == Entry.objects.filter(account=account).count()
    )
    for statement in statements:
        period = Period.parse(statement["period"])
        for entry in statement["entries"]:
            assert Period.of(Entry.objects.get(pk=entry["id"]).created_at) == period


def test_the_first_and_last_instants_of_a_month_land_in_that_month():
    account = opened(at(2026, 1, 20))
    deposit(account, 100, at(2026, 1, 31, 23, 59, 59, 999_999))
    deposit(account, 200, at(2026, 2, 1, 0, 0, 0))
    deposit(account, 400, at(2026, 2, 28, 23, 59, 59, 999_999))
    deposit(account, 800, at(2026, 3, 1))

    january, february, march = statements_of(account, "2026-01", "2026-03")

    assert [e["amount"] for e in january["entries"]] == [100]
    assert [e["amount"] for e in february["entries"]] == [200, 400]
    assert [e["amount"] for e in march["entries"]] == [800]
    assert (february["opening_balance"], february["closing_balance"]) == (100, 700)


def test_a_month_without_activity_carries_the_balance_over():
    account = opened(at(2026, 1, 5))
    deposit(account, 5_000, at(2026, 1, 6))
    withdraw(account, 1_000, at(2026, 4, 2))

    _january, february, march, april = statements_of(account, "2026-01", "2026-04")

    for quiet in (february, march):
        assert quiet["entries"] == []
        assert quiet["entry_count"] == 0
        assert quiet["opening_balance"] == quiet["closing_balance"] == 5_000
        assert quiet["total_credits"] == quiet["total_debits"] == 0
    assert (april["opening_balance"], april["total_debits"], april["closing_balance"]) == (
        5_000,
        1_000,
        4_000,
    )


def test_the_opening_month_opens_at_zero_and_sums_its_entries():
    account = opened(at(2026, 3, 10))
    deposit(account, 7_000, at(2026, 3, 11))
    withdraw(account, 2_500, at(2026, 3, 12))

    (march,) = statements_of(account, "2026-03", "2026-03")

    assert march["opening_balance"] == 0
    assert (march["total_credits"], march["total_debits"]) == (7_000, 2_500)
    assert march["closing_balance"] == 4_500


def test_a_reversal_in_the_next_month_shows_there_not_in_the_original_month():
    account = opened(at(2026, 1, 1))
    original = deposit(account, 3_000, at(2026, 1, 31, 23, 0))
    reverse(original, at(2026, 2, 1, 1, 0))

    january, february = statements_of(account, "2026-01", "2026-02")

    assert [(e["kind"], e["amount"]) for e in january["entries"]] == [("deposit", 3_000)]
    assert [(e["kind"], e["amount"]) for e in february["entries"]] == [("reversal", -3_000)]
    assert january["closing_balance"] == february["opening_balance"] == 3_000
    assert february["closing_balance"] == 0


def test_every_kind_of_entry_appears_with_its_counterparty_in_posting_order():
    account = opened(at(2026, 5, 1), holder__first_name="Ada", holder__last_name="Quill")
    payee = AccountFactory(holder__first_name="Bo", holder__last_name="Reed")
    deposit(account, 10_000, at(2026, 5, 2), "Salary")
    send(account, payee, 1_500, at(2026, 5, 3), "Rent")
    card_payment(account, 700, at(2026, 5, 5), "Corner Cafe")
    withdraw(account, 800, at(2026, 5, 6))
    reverse(deposit(account, 50, at(2026, 5, 7), "Oops"), at(2026, 5, 8))

    (may,) = statements_of(account, "2026-05", "2026-05")

    rows = [(e["kind"], e["amount"], e["counterparty"]) for e in may["entries"]]
    bank = {"name": "Northwind Bank", "account_number": None}
    assert rows == [
        ("deposit", 10_000, bank),
        ("transfer", -1_500, {"name": "Bo Reed", "account_number": payee.number}),
        ("card_payment", -700, {"name": "Corner Cafe", "account_number": None}),
        ("withdrawal", -800, bank),
        ("deposit", 50, bank),
        ("reversal", -50, bank),
    ]
    assert [e["balance_after"] for e in may["entries"]] == [
        10_000,
        8_500,
        7_800,
        7_000,
        7_050,
        7_000,
    ]
    assert (
        may["entries"][2]["description"] == "Corner Cafe"
    )  # the merchant, until cards adds its own
    assert_adds_up(may)


def test_entries_at_the_same_instant_keep_the_ledgers_order():
    account = opened(at(2026, 6, 1))
    same = at(2026, 6, 2, 9)
    for amount in (1, 2, 3, 4):
        deposit(account, amount, same)

    (june,) = statements_of(account, "2026-06", "2026-06")

    assert [e["balance_after"] for e in june["entries"]] == [1, 3, 6, 10]


def test_the_current_month_is_computed_live():
    account = opened(timezone.now() - timedelta(seconds=5))
    deposit(account, 900, timezone.now())

    statement = statement_content(account, Period.of(timezone.now()))

    assert statement["closing_balance"] == 900


def test_entry_line_is_the_history_apis_entry():
    from ledger.serializers import EntryOutput
    from statements.selectors import entry_line, month_entries

    account = opened(at(2026, 5, 1))
    payee = AccountFactory()
    deposit(account, 10_000, at(2026, 5, 2), "Salary")
    send(account, payee, 1_500, at(2026, 5, 3), "Rent")
    card_payment(account, 700, at(2026, 5, 5), "Corner Cafe")
    withdraw(account, 800, at(2026, 5, 6))
    reverse(deposit(account, 50, at(2026, 5, 7)), at(2026, 5, 8, 0, 0, 0, 123_456))
    entries = list(month_entries(account, month("2026-05")))

    assert [entry_line(e) for e in entries] == EntryOutput(entries, many=True).data
