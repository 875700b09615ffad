"""Property tests of the ledger: random sequences of the bank's verbs, checked against a
model of what each one must do, keep every invariant; and every refusal writes nothing.

The services commit with `transaction.atomic(durable=True)`, so the tests run with
`django_db(transaction=True)`: every posting really commits, and on PostgreSQL the deferred
"entries sum to zero" trigger runs at each commit. The database is not reset between
Hypothesis examples; each example opens fresh accounts for a fresh customer and the model
tracks only those, plus the change in the bank's settlement accounts since it started.
"""

from collections import defaultdict
from dataclasses import dataclass

import pytest
from django.db.models import Sum
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from accounts.tests.factories import UserFactory
from core.errors import BankError
from ledger import services
from ledger.checks import check_ledger
from ledger.errors import (
    AccountInactiveError,
    AlreadyReversedError,
    BalanceNotZeroError,
    CurrencyMismatchError,
    InsufficientFundsError,
    NotReversibleError,
    SameAccountError,
)
from ledger.idempotency import Idempotency
from ledger.models import Account, AccountStatusChange, Entry, IdempotencyKey, Transaction
from ledger.tests.factories import send

pytestmark = pytest.mark.django_db(transaction=True)

CURRENCIES = ["EUR", "USD"]
amounts = st.one_of(st.integers(1, 100), st.integers(1, 5_000), st.sampled_from([10**9]))

DETERMINISTIC = settings(
    deadline=None,
    derandomize=True,  # the same examples on every run and every machine: CI is repeatable
    database=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,  # each example makes its own fresh accounts
    ],
)


@dataclass
class Modelled:
    currency: str
    balance: int = 0
    status: str = "active"


@dataclass
class Posted:
    kind: str
    legs: list[tuple[object, int]]  # (account pk, signed amount)
    reversed: bool = False


def settlement_balances() -> dict[str, int]:
    return defaultdict(
        int,
        {bank.currency: bank.ledger_balance() for bank in Account.objects.filter(type="internal")},
    )


def refused_with(expected: set[type[BankError]], call) -> BankError:
    with pytest.raises(BankError) as caught:
        call()
    assert type(caught.value) in expected, (caught.value, expected)
    return caught.value


class LedgerMachine(RuleBasedStateMachine):
    accounts = Bundle("accounts")
    postings = Bundle("postings")

    def __init__(self):
        super().__init__()
        self.user = UserFactory()
        self.staff = UserFactory(is_staff=True)
        self.model: dict[object, Modelled] = {}
        self.posted: dict[object, Posted] = {}
        self.bank_start = settlement_balances()
        self.bank_delta: dict[str, int] = defaultdict(int)
        self.rows_start = self.rows()
        self.expected_rows = [0, 0, 0]  # transactions, entries, status changes

    # --- helpers ---------------------------------------------------------------------------

    def rows(self) -> list[int]:
        return [
            Transaction.objects.count(),
            Entry.objects.count(),
            AccountStatusChange.objects.count(),
        ]

    def snapshot(self):
        return (
            self.rows(),
            list(
                Account.objects.filter(pk__in=self.model)
                .order_by("pk")
                .values_list("pk", "balance", "status")
            ),
            dict(settlement_balances()),
        )

    def refuse(self, expected: set[type[BankError]], call) -> None:
        """The call must be refused with one of `expected`, and change nothing at all."""
        before = self.snapshot()
        refused_with(expected, call)
        assert self.snapshot() == before

    def bank_pk(self, currency: str):
        return Account.objects.get(type="internal", currency=currency).pk

    def record(self, txn: Transaction, kind: str, legs: list[tuple[object, int]]) -> None:
        self.posted[txn.pk] = Posted(kind=kind, legs=legs)
        self.expected_rows[0] += 1
        self.expected_rows[1] += len(legs)
        for pk, amount in legs:
            if pk in self.model:
                self.model[pk].balance += amount
            else:  # the bank's own account
                self.bank_delta[Account.objects.get(pk=pk).currency] += amount

    def account(self, pk) -> Account:
        return Account.objects.get(pk=pk)  # a stale copy, as a view would hold: services re-read

    # --- rules ---------------------------------------------------------------------------

    @initialize(target=accounts)
    def open_funded_accounts(self):
        """Most examples should move money, so each starts with funded accounts in two
        currencies (and one empty one)."""
        pks = []
        for currency, amount in [("EUR", 5_000), ("EUR", 800), ("EUR", 0), ("USD", 3_000)]:
            pk = self._open(currency)
            if amount:
                self._deposit(pk, amount)
            pks.append(pk)
        return multiple(*pks)

    def _open(self, currency: str):
        account = services.open_account(owner=self.user, type="checking", currency=currency)
        self.model[account.pk] = Modelled(currency=currency)
        return account.pk

    @rule(target=accounts, currency=st.sampled_from(CURRENCIES))
    def open_account(self, currency):
        return self._open(currency)

    @rule(target=postings, pk=accounts, amount=amounts)
    def deposit(self, pk, amount):
        return self._deposit(pk, amount)

    def _deposit(self, pk, amount):
        account, state = self.account(pk), self.model[pk]
        call = lambda: services.deposit(  # noqa: E731
            account=account, amount=amount, initiated_by=self.staff, description="property"
        )
        if state.status != "active":
            self.refuse({AccountInactiveError}, call)
            return multiple()
        txn = call()
        self.record(txn, "deposit", [(self.bank_pk(state.currency), -amount), (pk, amount)])
        return txn.pk

    @rule(target=postings, pk=accounts, amount=amounts)
    def withdraw(self, pk, amount):
        account, state = self.account(pk), self.model[pk]
        call = lambda: services.withdraw(  # noqa: E731
            account=account, amount=amount, initiated_by=self.staff, description="property"
        )
        if state.status != "active":
            self.refuse({AccountInactiveError}, call)
            return multiple()
        if state.balance < amount:
            self.refuse({InsufficientFundsError}, call)
            return multiple()
        txn = call()
        self.record(txn, "withdrawal", [(pk, -amount), (self.bank_pk(state.currency), amount)])
        return txn.pk

    @rule(target=postings, source=accounts, destination=accounts, amount=amounts)
    def transfer(self, source, destination, amount):
        """Any amount: overdrafts, frozen, closed, foreign and same-account payees."""
        return self._transfer(source, destination, amount)

    @rule(
        target=postings,
        source=accounts,
        destination=accounts,
        percent=st.integers(1, 100),
    )
    def transfer_affordable(self, source, destination, percent):
        """A share of what the source holds, to a payee in its currency: the transfers that
        should go through (unless an account is frozen or closed)."""
        currency = self.model[source].currency
        if destination == source or self.model[destination].currency != currency:
            payees = [pk for pk, s in self.model.items() if pk != source and s.currency == currency]
            destination = payees[0] if payees else destination
        amount = max(1, self.model[source].balance * percent // 100)
        return self._transfer(source, destination, amount)

    def _transfer(self, source, destination, amount):
        src, dst = self.model[source], self.model[destination]
        call = lambda: send(  # noqa: E731
            self.account(source),
            self.account(destination),
            amount,
            initiated_by=self.user,
        )
        refusal = None
        if source == destination:
            refusal = SameAccountError
        elif src.status != "active":
            refusal = AccountInactiveError
        elif src.balance < amount:
            refusal = InsufficientFundsError
        elif dst.status != "active":
            refusal = AccountInactiveError
        elif dst.currency != src.currency:
            refusal = CurrencyMismatchError
        if refusal:
            self.refuse({refusal}, call)
            return multiple()
        txn = call()
        self.record(txn, "transfer", [(source, -amount), (destination, amount)])
        entries = dict(Entry.objects.filter(transaction=txn).values_list("account_id", "amount"))
        assert entries == {source: -amount, destination: amount}
        return txn.pk

    @rule(pk=accounts, action=st.sampled_from(["freeze", "unfreeze", "unfreeze", "close"]))
    def change_status(self, pk, action):
        state = self.model[pk]
        service, to = {
            "freeze": (services.freeze_account, "frozen"),
            "unfreeze": (services.unfreeze_account, "active"),
            "close": (services.close_account, "closed"),
        }[action]
        call = lambda: service(account=self.account(pk), reason="property", by=self.staff)  # noqa: E731
        if state.status == "closed":
            self.refuse({AccountInactiveError}, call)  # closing is final
            return
        if action == "close" and state.balance != 0:
            self.refuse({BalanceNotZeroError}, call)
            return
        call()
        if state.status != to:
            self.expected_rows[2] += 1
        state.status = to

    @rule(target=postings, txn_pk=postings)
    def reverse(self, txn_pk):
        original = self.posted[txn_pk]
        call = lambda: services.reverse(  # noqa: E731
            original=Transaction.objects.get(pk=txn_pk), initiated_by=self.staff, reason="oops"
        )
        if original.kind == "reversal":
            self.refuse({NotReversibleError}, call)
            return multiple()
        if original.reversed:
            self.refuse({AlreadyReversedError}, call)
            return multiple()
        reasons = set()
        for pk, amount in original.legs:
            state = self.model.get(pk)  # None: the bank's account, which may always pay back
            if state is None:
                continue
            if state.status == "closed":
                reasons.add(AccountInactiveError)
            if amount > 0 and state.balance < amount:
                reasons.add(InsufficientFundsError)
        if reasons:  # the first leg that fails names the refusal; legs come in any order
            self.refuse(reasons, call)
            return multiple()
        txn = call()
        original.reversed = True
        self.record(txn, "reversal", [(pk, -amount) for pk, amount in original.legs])
        assert txn.reverses_id == txn_pk
        return txn.pk

    # --- invariants ------------------------------------------------------------------------

    def teardown(self):
        # The whole-ledger proof is the slow one (a window over every entry): once per example;
        # the invariants below check the same facts for this example's accounts at every step.
        report = check_ledger()
        assert report.ok, report.problems

    @invariant()
    def balances_match_the_model(self):
        rows = Account.objects.filter(pk__in=self.model).values_list("pk", "balance", "status")
        assert {pk: (balance, status) for pk, balance, status in rows} == {
            pk: (state.balance, state.status) for pk, state in self.model.items()
        }
        bank = settlement_balances()
        for currency in CURRENCIES:
            assert bank[currency] == self.bank_start[currency] + self.bank_delta[currency]

    @invariant()
    def entries_explain_every_balance(self):
        """Each balance is the sum of its entries, and the running balance_after of its
        entries, in posting order, is the running sum."""
        rows = Entry.objects.filter(account_id__in=self.model).order_by("created_at", "id")
        running: dict[object, int] = defaultdict(int)
        for account_id, amount, balance_after in rows.values_list(
            "account_id", "amount", "balance_after"
        ):
            running[account_id] += amount
            assert balance_after == running[account_id]
        assert all(running[pk] == state.balance for pk, state in self.model.items())

    @invariant()
    def no_customer_below_zero(self):
        assert not Account.objects.exclude(type="internal").filter(balance__lt=0).exists()

    @invariant()
    def entries_sum_to_zero(self):
        by_currency = Entry.objects.values("currency").annotate(total=Sum("amount"))
        assert all(row["total"] == 0 for row in by_currency)
        unbalanced = (
            Entry.objects.filter(transaction_id__in=list(self.posted))
            .values("transaction_id")
            .annotate(total=Sum("amount"))
            .exclude(total=0)
        )
        assert not unbalanced.exists()

    @invariant()
    def nothing_written_but_the_postings(self):
        now = self.rows()
        assert [n - s for n, s in zip(now, self.rows_start, strict=True)] == self.expected_rows


@override_settings(APPROVAL_LIMIT=10**15)  # four eyes is its own rule, tested in test_staff_roles
def test_random_operations_keep_every_invariant():
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(DETERMINISTIC, max_examples=20, stateful_step_count=20),
    )


# --- one refusal at a time ----------------------------------------------------------------


@settings(DETERMINISTIC, max_examples=25)
@given(
    balance=st.integers(0, 5_000),
    amount=st.integers(1, 6_000),
    source_status=st.sampled_from(["active", "active", "frozen"]),
    destination_status=st.sampled_from(["active", "active", "frozen", "closed"]),
    destination_currency=st.sampled_from(["EUR", "EUR", "USD"]),
    with_key=st.booleans(),
)
def test_transfer_posts_exactly_or_writes_nothing(
    balance, amount, source_status, destination_status, destination_currency, with_key
):
    user = UserFactory()
    source = services.open_account(owner=user, type="checking", currency="EUR")
    destination = services.open_account(
        owner=UserFactory(), type="checking", currency=destination_currency
    )
    if balance:
        services.deposit(account=source, amount=balance, initiated_by=None)
    if source_status == "frozen":
        services.freeze_account(account=source, reason="test", by=None)
    if destination_status == "frozen":
        services.freeze_account(account=destination, reason="test", by=None)
    elif destination_status == "closed":
        services.close_account(account=destination, reason="test", by=None)
    idempotency = (
        Idempotency(
            scope=f"user:{user.pk}",
            key="k1",
            fingerprint="f",
            respond=lambda txn: (201, {"id": str(txn.pk)}),
        )
        if with_key
        else None
    )
    before = (Transaction.objects.count(), Entry.objects.count(), IdempotencyKey.objects.count())

    refusal = None
    if source_status != "active":
        refusal = AccountInactiveError
    elif balance < amount:
        refusal = InsufficientFundsError
    elif destination_status != "active":
        refusal = AccountInactiveError
    elif destination_currency != "EUR":
        refusal = CurrencyMismatchError

    def call():
        return send(
            source,
            destination,
            amount,
            initiated_by=user,
            idempotency=idempotency,
        )

    if refusal:
        refused_with({refusal}, call)
        after = (
            Transaction.objects.count(),
            Entry.objects.count(),
            IdempotencyKey.objects.count(),
        )
        assert after == before
        expected = (balance, 0)
    else:
        txn = call()
        assert txn.kind == "transfer"
        assert Entry.objects.filter(transaction=txn).count() == 2
        assert IdempotencyKey.objects.count() == before[2] + with_key
        expected = (balance - amount, amount)
    source.refresh_from_db()
    destination.refresh_from_db()
    assert (source.balance, destination.balance) == expected
    report = check_ledger()
    assert report.ok, report.problems
