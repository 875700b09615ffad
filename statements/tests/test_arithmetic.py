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
from statements.canonical import canonical_text, sha256_of
from statements.periods import Period, periods_between
from statements.selectors import statement_content
from statements.services import issue_statement
from statements.tests.helpers import (
    at,
    capture,
    card_payment,
    deposit,
    month,
    opened,
    reverse,
    send,
    split,
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
    from statements.selectors import entry_line, month_entries, month_rows

    account = opened(at(2026, 5, 1))
    payee = AccountFactory()
    payer = AccountFactory()
    nameless = AccountFactory(holder__first_name="", holder__last_name="")
    deposit(payer, 5_000, at(2026, 4, 1))
    deposit(nameless, 5_000, at(2026, 4, 1))
    deposit(account, 10_000, at(2026, 5, 2), "Salary")
    rent = send(account, payee, 1_500, at(2026, 5, 3), "Rent")
    send(payer, account, 2_000, at(2026, 5, 4), "Repayment")
    send(nameless, account, 300, at(2026, 5, 4, 12), "Gift")
    cafe = card_payment(account, 700, at(2026, 5, 5), "Corner Cafe")
    capture(account, 300, at(2026, 5, 5, 12), "Book Nook")
    withdraw(account, 800, at(2026, 5, 6))
    reverse(deposit(account, 50, at(2026, 5, 7)), at(2026, 5, 8, 0, 0, 0, 123_456))
    reverse(rent, at(2026, 5, 9))
    reverse(cafe, at(2026, 5, 10))
    split(account, {payee: 100, payer: 200}, at(2026, 5, 11))
    entries = list(month_entries(account, month("2026-05")))

    lines = [entry_line(*row) for row in month_rows(account, month("2026-05"))]

    assert lines == EntryOutput(entries, many=True).data
    assert len(lines) == 12 and lines[-1]["counterparty"] is None


def test_an_issued_statements_content_is_pinned_for_every_kind_of_entry():
    """What an issued statement keeps, and so its SHA-256, depends only on the entries: any
    change to how a line is read or named (the counterparty above all) must leave these bytes
    as they are for the same data. Every field is written out, not recomputed by the code."""
    account = opened(
        at(2026, 5, 1),
        holder__first_name="Ada",
        holder__last_name="Quill",
        holder__address="1 Quay Street\nPortown",
    )
    payee = AccountFactory(holder__first_name="Bo", holder__last_name="Reed")
    payer = AccountFactory(holder__first_name="Cy", holder__last_name="Ames")
    nameless = AccountFactory(holder__first_name="", holder__last_name="")
    deposit(payer, 5_000, at(2026, 4, 1))
    deposit(nameless, 5_000, at(2026, 4, 1))
    salary = deposit(account, 10_000, at(2026, 5, 2), "Salary")
    rent = send(account, payee, 1_500, at(2026, 5, 3), "Rent")
    send(payer, account, 2_000, at(2026, 5, 4), "Repayment")
    send(nameless, account, 300, at(2026, 5, 4, 12), "Gift")
    cafe = card_payment(account, 700, at(2026, 5, 5), "Corner Cafe")
    capture(account, 300, at(2026, 5, 5, 12), "Book Nook")
    withdraw(account, 800, at(2026, 5, 6), "ATM")
    reverse(deposit(account, 50, at(2026, 5, 7), "Oops"), at(2026, 5, 8, 0, 0, 0, 123_456))
    reverse(rent, at(2026, 5, 9), "Wrong payee")
    reverse(cafe, at(2026, 5, 10), "Refund")
    split(account, {payee: 100, payer: 200}, at(2026, 5, 10, 12), "Dinner")
    deposit(account, 1, at(2026, 6, 1), "Next month")

    statement, issued = issue_statement(account=account, period=month("2026-05"))

    ids = list(
        Entry.objects.filter(account=account, created_at__lt=at(2026, 6, 1))
        .order_by("created_at", "id")
        .values_list("id", "transaction_id")
    )
    bank = {"name": "Northwind Bank", "account_number": None}
    lines = [  # kind, amount, balance after, description, counterparty, time
        ("deposit", 10_000, 10_000, "Salary", bank, "2026-05-02T00:00:00Z"),
        (
            "transfer",
            -1_500,
            8_500,
            "Rent",
            {"name": "Bo Reed", "account_number": payee.number},
            "2026-05-03T00:00:00Z",
        ),
        (
            "transfer",
            2_000,
            10_500,
            "Repayment",
            {"name": "Cy Ames", "account_number": payer.number},
            "2026-05-04T00:00:00Z",
        ),
        (
            "transfer",
            300,
            10_800,
            "Gift",
            {"name": "", "account_number": nameless.number},
            "2026-05-04T12:00:00Z",
        ),
        (
            "card_payment",
            -700,
            10_100,
            "Corner Cafe",
            {"name": "Corner Cafe", "account_number": None},
            "2026-05-05T00:00:00Z",
        ),
        (
            "card_payment",
            -300,
            9_800,
            "Book Nook",
            {"name": "Book Nook", "account_number": None},
            "2026-05-05T12:00:00Z",
        ),
        ("withdrawal", -800, 9_000, "ATM", bank, "2026-05-06T00:00:00Z"),
        ("deposit", 50, 9_050, "Oops", bank, "2026-05-07T00:00:00Z"),
        ("reversal", -50, 9_000, "Reversal: Posted in error", bank, "2026-05-08T00:00:00.123456Z"),
        (
            "reversal",
            1_500,
            10_500,
            "Reversal: Wrong payee",
            {"name": "Bo Reed", "account_number": payee.number},
            "2026-05-09T00:00:00Z",
        ),
        ("reversal", 700, 11_200, "Reversal: Refund", bank, "2026-05-10T00:00:00Z"),
        ("transfer", -300, 10_900, "Dinner", None, "2026-05-10T12:00:00Z"),
    ]
    expected = {
        "account": str(account.pk),
        "account_number": account.number,
        "holder": {"name": "Ada Quill", "address": "1 Quay Street\nPortown"},
        "period": "2026-05",
        "period_start": "2026-05-01",
        "period_end": "2026-05-31",
        "currency": "EUR",
        "opening_balance": 0,
        "closing_balance": 10_900,
        "total_credits": 14_550,
        "total_debits": 3_650,
        "entry_count": 12,
        "entries": [
            {
                "id": str(entry_id),
                "transaction_id": str(transaction_id),
                "kind": kind,
                "amount": amount,
                "currency": "EUR",
                "balance_after": balance_after,
                "description": description,
                "counterparty": counterparty,
                "created_at": created_at,
            }
            for (entry_id, transaction_id), (
                kind,
                amount,
                balance_after,
                description,
                counterparty,
                created_at,
            ) in zip(ids, lines, strict=True)
        ],
    }
    assert issued
    assert ids[0][1] == salary.pk
    assert statement.content == canonical_text(expected)
    assert statement.sha256 == sha256_of(canonical_text(expected))
