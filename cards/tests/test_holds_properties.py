"""A property test of holds: random sequences of authorise / capture / void / expire /
transfer on one card's account, each checked against a model of what it must do, with the
invariants checked after every step: the cached `held` is the sum of what the open holds
still hold, the available balance is never below zero, every hold's payments sum to its
captured amount, no money is created or lost, and `ledger_check` proves the books.

The services commit durably, so the test runs with `django_db(transaction=True)`; each
Hypothesis example opens a fresh card on a fresh account, and the model tracks only those."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from accounts.tests.factories import UserFactory
from cards import services
from cards.errors import AuthorizationClosedError, CardInsufficientFundsError
from cards.models import CardAuthorization, CardPayment
from cards.tests.factories import authorize, capture, issued_card, void
from core.errors import ValidationFailed
from ledger.checks import check_ledger
from ledger.errors import InsufficientFundsError
from ledger.models import Account
from ledger.tests.factories import account_for, balance_of, send
from ledger.tests.test_properties import DETERMINISTIC

pytestmark = pytest.mark.django_db(transaction=True)

START = 10_000
amounts = st.integers(1, 6_000)


@dataclass
class Hold:
    pk: object
    amount: int
    captured: int = 0
    status: str = "pending"

    @property
    def remaining(self) -> int:
        return self.amount - self.captured if self.status == "pending" else 0


class HoldsMachine(RuleBasedStateMachine):
    holds = Bundle("holds")

    def __init__(self):
        super().__init__()
        self.card = issued_card(amount=START, daily_limit=1_000_000)
        self.account = Account.objects.get(pk=self.card.card.account_id)
        self.payee = account_for(UserFactory(), amount=0)
        self.model: dict[object, Hold] = {}
        self.balance, self.sent, self.captured = START, 0, 0

    @property
    def held(self) -> int:
        return sum(hold.remaining for hold in self.model.values())

    @property
    def available(self) -> int:
        return self.balance - self.held

    @rule(target=holds, amount=amounts)
    def authorise(self, amount):
        if amount > self.available:
            with pytest.raises(CardInsufficientFundsError):
                authorize(self.card, amount=amount)
            return multiple()  # nothing added to the bundle
        made = authorize(self.card, amount=amount, merchant="Shop")
        self.model[made.pk] = Hold(pk=made.pk, amount=amount)
        return made.pk

    @rule(pk=holds, part=st.one_of(st.none(), amounts))
    def capture(self, pk, part):
        hold = self.model[pk]
        target = CardAuthorization(pk=pk)
        if hold.status != "pending":
            with pytest.raises(AuthorizationClosedError):
                capture(self.card, target, **({} if part is None else {"amount": part}))
            return
        if part is not None and part > hold.remaining:
            with pytest.raises(ValidationFailed):
                capture(self.card, target, amount=part)
            return
        taken = hold.remaining if part is None else part
        capture(self.card, target, **({} if part is None else {"amount": part}))
        hold.captured += taken
        self.balance -= taken
        self.captured += taken
        if hold.captured == hold.amount:
            hold.status = "closed"

    @rule(pk=holds)
    def void(self, pk):
        hold = self.model[pk]
        if hold.status != "pending":
            with pytest.raises(AuthorizationClosedError):
                void(self.card, CardAuthorization(pk=pk))
            return
        void(self.card, CardAuthorization(pk=pk))
        hold.status = "voided"

    @rule(pk=holds)
    def expire(self, pk):
        hold = self.model[pk]
        CardAuthorization.objects.filter(pk=pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        released = services.expire_holds()
        if hold.status == "pending":
            assert released == 1
            hold.status = "expired"
        else:
            assert released == 0

    @rule(amount=amounts)
    def transfer(self, amount):
        if amount > self.available:
            with pytest.raises(InsufficientFundsError):
                send(self.account, self.payee, amount)
            return
        send(self.account, self.payee, amount)
        self.balance -= amount
        self.sent += amount

    @invariant()
    def the_account_matches_the_model(self):
        account = Account.objects.get(pk=self.account.pk)
        assert (account.balance, account.held) == (self.balance, self.held)
        assert account.available_balance >= 0

    @invariant()
    def every_hold_matches_the_model(self):
        rows = CardAuthorization.objects.filter(card=self.card.card).values_list(
            "pk", "status", "captured_amount"
        )
        assert {pk: (status, got) for pk, status, got in rows} == {
            pk: (hold.status, hold.captured) for pk, hold in self.model.items()
        }
        for pk, hold in self.model.items():
            paid = CardPayment.objects.filter(authorization_id=pk).aggregate(s=Sum("amount"))
            assert (paid["s"] or 0) == hold.captured

    @invariant()
    def no_money_created_or_lost(self):
        assert balance_of(self.payee) == self.sent
        assert self.balance + self.sent + self.captured == START

    def teardown(self):
        report = check_ledger()
        assert report.ok, report.problems


def test_random_holds_keep_every_invariant():
    run_state_machine_as_test(
        HoldsMachine,
        settings=settings(DETERMINISTIC, max_examples=20, stateful_step_count=25),
    )
