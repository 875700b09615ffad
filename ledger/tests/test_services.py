"""The ledger's services: every rule, every refusal, and proof that a refusal writes nothing."""

import pytest

from accounts.models import Holder
from accounts.tests.factories import UserFactory
from core.errors import NotFound
from ledger import services
from ledger.errors import (
    AccountInactiveError,
    AlreadyReversedError,
    BalanceNotZeroError,
    CurrencyMismatchError,
    InsufficientFundsError,
    NotReversibleError,
    SameAccountError,
)
from ledger.models import Account, AccountStatusChange, Entry, Transaction
from ledger.numbers import is_valid_account_number
from ledger.tests.factories import (
    AccountFactory,
    balance_of,
    closed_account,
    frozen_account,
    funded_account,
    ledger_rows,
    send,
)

pytestmark = pytest.mark.django_db


def snapshot(*accounts: Account):
    """Everything a refusal must leave as it was: ledger rows, balances, statuses, audit rows."""
    for account in accounts:
        account.refresh_from_db()
    return (
        ledger_rows(),
        AccountStatusChange.objects.count(),
        [(a.balance, a.status) for a in accounts],
    )


# --- open_account ---------------------------------------------------------------------------


def test_open_account_creates_empty_active_account():
    user = UserFactory()

    account = services.open_account(owner=user, type="savings", currency="GBP", nickname="Rainy")

    account.refresh_from_db()
    assert (account.holder, account.type, account.currency, account.nickname) == (
        user.holder,
        "savings",
        "GBP",
        "Rainy",
    )
    assert (account.balance, account.status) == (0, "active")


def test_open_account_draws_a_number_with_valid_check_digits():
    account = services.open_account(owner=UserFactory(), type="checking", currency="EUR")

    assert is_valid_account_number(account.number)


def test_open_account_gives_a_holder_to_a_user_without_one():
    staff = UserFactory(is_staff=True, holder=None)

    account = services.open_account(owner=staff, type="checking", currency="EUR")

    assert account.holder == Holder.objects.get(user=staff)


def test_open_account_writes_no_ledger_rows():
    services.open_account(owner=UserFactory(), type="checking", currency="EUR")

    assert ledger_rows() == (0, 0)


# --- rename_account -------------------------------------------------------------------------


def test_rename_account_changes_the_nickname():
    account = AccountFactory(nickname="Old")

    services.rename_account(account=account, nickname="Holiday fund")

    account.refresh_from_db()
    assert account.nickname == "Holiday fund"


def test_rename_account_leaves_balance_and_status():
    account = funded_account(500)

    services.rename_account(account=account, nickname="New")

    account.refresh_from_db()
    assert (account.balance, account.status) == (500, "active")


# --- transfer -------------------------------------------------------------------------------


def test_transfer_moves_the_amount():
    source, destination = funded_account(1000), AccountFactory()

    send(source, destination, 300)

    assert (balance_of(source), balance_of(destination)) == (700, 300)


def test_transfer_posts_two_entries_summing_to_zero():
    source, destination = funded_account(1000), AccountFactory()

    txn = send(source, destination, 300)

    amounts = sorted(txn.entries.values_list("amount", flat=True))
    assert amounts == [-300, 300]


def test_transfer_records_kind_description_and_initiator():
    source, destination = funded_account(1000), AccountFactory()

    txn = send(source, destination, 300, description="Rent")

    txn.refresh_from_db()
    assert (txn.kind, txn.description, txn.initiated_by) == (
        "transfer",
        "Rent",
        source.holder.user,
    )


def test_transfer_records_balance_after_on_each_leg():
    source, destination = funded_account(1000), funded_account(50)

    txn = send(source, destination, 300)

    after = {e.account_id: e.balance_after for e in txn.entries.all()}
    assert after == {source.pk: 700, destination.pk: 350}


def test_transfer_records_the_other_account_as_counterparty():
    source, destination = funded_account(1000), AccountFactory()

    txn = send(source, destination, 300)

    counterparties = {e.account_id: e.counterparty_id for e in txn.entries.all()}
    assert counterparties == {source.pk: destination.pk, destination.pk: source.pk}


def test_transfer_entries_carry_the_account_currency():
    source, destination = funded_account(1000, "USD"), AccountFactory(currency="USD")

    txn = send(source, destination, 300)

    assert set(txn.entries.values_list("currency", flat=True)) == {"USD"}


def test_transfer_may_send_the_whole_balance():
    source, destination = funded_account(1000), AccountFactory()

    send(source, destination, 1000)

    assert balance_of(source) == 0


def test_transfer_refuses_overdraft_and_writes_nothing():
    source, destination = funded_account(1000), AccountFactory()
    before = snapshot(source, destination)

    with pytest.raises(InsufficientFundsError):
        send(source, destination, 1001)

    assert snapshot(source, destination) == before


def test_transfer_refuses_frozen_source_and_writes_nothing():
    source, destination = frozen_account(1000), AccountFactory()
    before = snapshot(source, destination)

    with pytest.raises(AccountInactiveError):
        send(source, destination, 100)

    assert snapshot(source, destination) == before


def test_transfer_refuses_frozen_destination_and_writes_nothing():
    source, destination = funded_account(1000), frozen_account()
    before = snapshot(source, destination)

    with pytest.raises(AccountInactiveError):
        send(source, destination, 100)

    assert snapshot(source, destination) == before


def test_transfer_refuses_closed_destination_and_writes_nothing():
    source, destination = funded_account(1000), closed_account()
    before = snapshot(source, destination)

    with pytest.raises(AccountInactiveError):
        send(source, destination, 100)

    assert snapshot(source, destination) == before


def test_transfer_refuses_closed_source_and_writes_nothing():
    source, destination = closed_account(), AccountFactory()
    before = snapshot(source, destination)

    with pytest.raises(AccountInactiveError):
        send(source, destination, 100)

    assert snapshot(source, destination) == before


def test_transfer_refuses_currency_mismatch_and_writes_nothing():
    source, destination = funded_account(1000, "EUR"), AccountFactory(currency="USD")
    before = snapshot(source, destination)

    with pytest.raises(CurrencyMismatchError):
        send(source, destination, 100)

    assert snapshot(source, destination) == before


def test_transfer_refuses_same_account_and_writes_nothing():
    account = funded_account(1000)
    before = snapshot(account)

    with pytest.raises(SameAccountError):
        send(account, account, 100)

    assert snapshot(account) == before


@pytest.mark.parametrize("amount", [0, -100])
def test_transfer_refuses_non_positive_amount_and_writes_nothing(amount):
    source, destination = funded_account(1000), funded_account(1000)
    before = snapshot(source, destination)

    with pytest.raises(ValueError, match="positive"):
        send(source, destination, amount)

    assert snapshot(source, destination) == before


def test_transfer_re_reads_the_balance_instead_of_trusting_the_callers_copy():
    source, destination = funded_account(1000), AccountFactory()
    stale = Account.objects.get(pk=source.pk)
    send(source, destination, 800)

    with pytest.raises(InsufficientFundsError):
        send(stale, destination, 800)


def test_transfer_refuses_someone_elses_source_as_not_found_and_writes_nothing():
    mine, theirs = funded_account(1000), funded_account(1000)
    before = snapshot(mine, theirs)

    with pytest.raises(NotFound) as refused:
        send(theirs, mine, 100, initiated_by=mine.holder.user)

    assert refused.value.message == NotFound().message  # not "No account has this number."
    assert snapshot(mine, theirs) == before


def test_transfer_refuses_a_staff_initiator_on_a_customers_account():
    source, destination = funded_account(1000), AccountFactory()
    staff = UserFactory(is_staff=True)
    before = snapshot(source, destination)

    with pytest.raises(NotFound):
        send(source, destination, 100, initiated_by=staff)

    assert snapshot(source, destination) == before


@pytest.mark.parametrize("payee", ["unknown", "bank"])
def test_transfer_refuses_a_number_that_is_no_customer_account(payee):
    source = funded_account(1000)
    bank = services.settlement_account(source.currency)
    number = "0000000000" if payee == "unknown" else bank.number
    before = snapshot(source, bank)

    with pytest.raises(NotFound, match="No account has this number"):
        services.transfer(
            initiated_by=source.holder.user,
            from_account=source.pk,
            to_account_number=number,
            amount=100,
        )

    assert snapshot(source, bank) == before


# --- deposit --------------------------------------------------------------------------------


def test_deposit_credits_the_account():
    account = AccountFactory()

    services.deposit(account=account, amount=2500, initiated_by=None)

    assert balance_of(account) == 2500


def test_deposit_debits_the_settlement_account_below_zero():
    account = AccountFactory(currency="GBP")

    services.deposit(account=account, amount=2500, initiated_by=None)

    assert balance_of(services.settlement_account("GBP")) == -2500


def test_deposit_posts_entries_summing_to_zero_with_balance_after():
    account = funded_account(100)

    txn = services.deposit(account=account, amount=2500, initiated_by=None)

    rows = {e.account_id: (e.amount, e.balance_after) for e in txn.entries.all()}
    bank = services.settlement_account("EUR")
    assert rows == {account.pk: (2500, 2600), bank.pk: (-2500, None)}  # the bank's: no running


def test_deposit_names_settlement_account_as_counterparty():
    account = AccountFactory()

    txn = services.deposit(account=account, amount=2500, initiated_by=None)

    entry = txn.entries.get(account=account)
    assert entry.counterparty == services.settlement_account("EUR")


def test_deposit_records_staff_initiator_and_description():
    staff, account = UserFactory(is_staff=True), AccountFactory()

    txn = services.deposit(account=account, amount=2500, initiated_by=staff, description="Till")

    txn.refresh_from_db()
    assert (txn.kind, txn.initiated_by, txn.description) == ("deposit", staff, "Till")


def test_deposit_by_the_bank_itself_gets_the_default_description():
    txn = services.deposit(account=AccountFactory(), amount=2500, initiated_by=None)

    txn.refresh_from_db()
    assert (txn.initiated_by, txn.description) == (None, "Cash deposit")


def test_deposit_keeps_one_settlement_account_per_currency():
    services.deposit(account=AccountFactory(currency="EUR"), amount=1, initiated_by=None)
    services.deposit(account=AccountFactory(currency="EUR"), amount=1, initiated_by=None)
    services.deposit(account=AccountFactory(currency="USD"), amount=1, initiated_by=None)

    internal = Account.objects.filter(type=Account.Type.INTERNAL)
    assert sorted(internal.values_list("currency", flat=True)) == ["EUR", "USD"]


def test_settlement_account_has_no_holder_and_a_valid_number():
    bank = services.settlement_account("CHF")

    assert bank.holder is None
    assert is_valid_account_number(bank.number)


def test_deposit_refuses_frozen_account_and_writes_nothing():
    account = frozen_account(500)
    before = snapshot(account)

    with pytest.raises(AccountInactiveError):
        services.deposit(account=account, amount=100, initiated_by=None)

    assert snapshot(account) == before


def test_deposit_refuses_closed_account_and_writes_nothing():
    account = closed_account()
    before = snapshot(account)

    with pytest.raises(AccountInactiveError):
        services.deposit(account=account, amount=100, initiated_by=None)

    assert snapshot(account) == before


@pytest.mark.parametrize("amount", [0, -100])
def test_deposit_refuses_non_positive_amount_and_writes_nothing(amount):
    account = funded_account(500)
    before = snapshot(account)

    with pytest.raises(ValueError, match="positive"):
        services.deposit(account=account, amount=amount, initiated_by=None)

    assert snapshot(account) == before


# --- withdraw -------------------------------------------------------------------------------


def test_withdraw_debits_the_account():
    account = funded_account(1000)

    services.withdraw(account=account, amount=400, initiated_by=None)

    assert balance_of(account) == 600


def test_withdraw_credits_the_settlement_account():
    account = funded_account(1000)

    services.withdraw(account=account, amount=400, initiated_by=None)

    assert balance_of(services.settlement_account("EUR")) == -600


def test_withdraw_posts_entries_summing_to_zero():
    account = funded_account(1000)

    txn = services.withdraw(account=account, amount=400, initiated_by=None)

    assert sum(txn.entries.values_list("amount", flat=True)) == 0
    assert txn.entries.get(account=account).balance_after == 600


def test_withdraw_records_kind_and_default_description():
    account = funded_account(1000)

    txn = services.withdraw(account=account, amount=400, initiated_by=None)

    txn.refresh_from_db()
    assert (txn.kind, txn.description) == ("withdrawal", "Cash withdrawal")


def test_withdraw_refuses_overdraft_and_writes_nothing():
    account = funded_account(1000)
    before = snapshot(account)

    with pytest.raises(InsufficientFundsError):
        services.withdraw(account=account, amount=1001, initiated_by=None)

    assert snapshot(account) == before


def test_withdraw_refuses_frozen_account_and_writes_nothing():
    account = frozen_account(1000)
    before = snapshot(account)

    with pytest.raises(AccountInactiveError):
        services.withdraw(account=account, amount=100, initiated_by=None)

    assert snapshot(account) == before


@pytest.mark.parametrize("amount", [0, -100])
def test_withdraw_refuses_non_positive_amount_and_writes_nothing(amount):
    account = funded_account(500)
    before = snapshot(account)

    with pytest.raises(ValueError, match="positive"):
        services.withdraw(account=account, amount=amount, initiated_by=None)

    assert snapshot(account) == before


# --- reverse --------------------------------------------------------------------------------


def test_reverse_negates_every_leg_of_the_original():
    source, destination = funded_account(1000), AccountFactory()
    original = send(source, destination, 300)

    reversal = services.reverse(original=original, initiated_by=None, reason="Sent in error")

    legs = {e.account_id: e.amount for e in reversal.entries.all()}
    assert legs == {source.pk: 300, destination.pk: -300}


def test_reverse_restores_both_balances():
    source, destination = funded_account(1000), AccountFactory()
    original = send(source, destination, 300)

    services.reverse(original=original, initiated_by=None, reason="Sent in error")

    assert (balance_of(source), balance_of(destination)) == (1000, 0)


def test_reverse_links_to_the_original_and_names_the_reason():
    source, destination = funded_account(1000), AccountFactory()
    original = send(source, destination, 300)

    reversal = services.reverse(original=original, initiated_by=None, reason="Sent in error")

    reversal.refresh_from_db()
    assert (reversal.kind, reversal.reverses, reversal.description) == (
        "reversal",
        original,
        "Reversal: Sent in error",
    )


def test_reverse_leaves_the_original_entries_untouched():
    source, destination = funded_account(1000), AccountFactory()
    original = send(source, destination, 300)
    before = list(original.entries.order_by("id").values())

    services.reverse(original=original, initiated_by=None, reason="Sent in error")

    assert list(original.entries.order_by("id").values()) == before


def test_reverse_of_a_deposit_returns_the_money_to_the_bank():
    account = AccountFactory()
    original = services.deposit(account=account, amount=700, initiated_by=None)

    services.reverse(original=original, initiated_by=None, reason="Counterfeit notes")

    assert (balance_of(account), balance_of(services.settlement_account("EUR"))) == (0, 0)


def test_reverse_refuses_a_second_reversal_and_writes_nothing():
    source, destination = funded_account(1000), AccountFactory()
    original = send(source, destination, 300)
    services.reverse(original=original, initiated_by=None, reason="first")
    before = snapshot(source, destination)

    with pytest.raises(AlreadyReversedError):
        services.reverse(original=original, initiated_by=None, reason="second")

    assert snapshot(source, destination) == before


def test_reverse_refuses_to_reverse_a_reversal_and_writes_nothing():
    source, destination = funded_account(1000), AccountFactory()
    reversal = services.reverse(
        original=send(source, destination, 300), initiated_by=None, reason="first"
    )
    before = snapshot(source, destination)

    with pytest.raises(NotReversibleError):
        services.reverse(original=reversal, initiated_by=None, reason="again")

    assert snapshot(source, destination) == before


def test_reverse_refuses_when_the_recipient_has_spent_the_money_and_writes_nothing():
    source, destination, third = funded_account(1000), AccountFactory(), AccountFactory()
    original = send(source, destination, 300)
    send(destination, third, 200)
    before = snapshot(source, destination, third)

    with pytest.raises(InsufficientFundsError):
        services.reverse(original=original, initiated_by=None, reason="too late")

    assert snapshot(source, destination, third) == before


def test_reverse_refuses_a_closed_account_and_writes_nothing():
    source, destination = funded_account(1000), AccountFactory()
    original = send(source, destination, 300)
    send(destination, source, 300)
    services.close_account(account=destination, reason="moved away", by=None)
    before = snapshot(source, destination)

    with pytest.raises(AccountInactiveError):
        services.reverse(original=original, initiated_by=None, reason="too late")

    assert snapshot(source, destination) == before


# --- freeze, unfreeze, close ----------------------------------------------------------------


def test_freeze_account_sets_status_frozen():
    account = AccountFactory()

    services.freeze_account(account=account, reason="Fraud review", by=None)

    account.refresh_from_db()
    assert account.status == "frozen"


def test_freeze_account_records_who_and_why():
    staff, account = UserFactory(is_staff=True), AccountFactory()

    services.freeze_account(account=account, reason="Fraud review", by=staff)

    change = AccountStatusChange.objects.get(account=account)
    assert (change.from_status, change.to_status, change.reason, change.changed_by) == (
        "active",
        "frozen",
        "Fraud review",
        staff,
    )


def test_freeze_account_twice_records_one_change():
    account = frozen_account()

    services.freeze_account(account=account, reason="again", by=None)

    assert AccountStatusChange.objects.filter(account=account).count() == 1


def test_freeze_account_keeps_the_balance():
    account = funded_account(900)

    services.freeze_account(account=account, reason="Fraud review", by=None)

    assert balance_of(account) == 900


def test_unfreeze_account_makes_it_active_again():
    account = frozen_account()

    services.unfreeze_account(account=account, reason="Cleared", by=None)

    account.refresh_from_db()
    assert account.status == "active"


def test_unfreeze_account_records_who_and_why():
    staff, account = UserFactory(is_staff=True), frozen_account()

    services.unfreeze_account(account=account, reason="Cleared", by=staff)

    change = AccountStatusChange.objects.filter(account=account).order_by("-id").first()
    assert (change.from_status, change.to_status, change.reason, change.changed_by) == (
        "frozen",
        "active",
        "Cleared",
        staff,
    )


def test_unfreeze_account_lets_money_move_again():
    source, destination = frozen_account(1000), AccountFactory()
    services.unfreeze_account(account=source, reason="Cleared", by=None)

    send(source, destination, 100)

    assert balance_of(destination) == 100


def test_close_account_closes_an_empty_account():
    staff, account = UserFactory(is_staff=True), AccountFactory()

    services.close_account(account=account, reason="Customer request", by=staff)

    account.refresh_from_db()
    assert account.status == "closed"
    change = AccountStatusChange.objects.get(account=account)
    assert (change.to_status, change.reason, change.changed_by) == (
        "closed",
        "Customer request",
        staff,
    )


def test_close_account_closes_a_frozen_empty_account():
    account = frozen_account()

    services.close_account(account=account, reason="Customer request", by=None)

    account.refresh_from_db()
    assert account.status == "closed"


def test_close_account_refuses_a_non_zero_balance_and_writes_nothing():
    account = funded_account(1)
    before = snapshot(account)

    with pytest.raises(BalanceNotZeroError):
        services.close_account(account=account, reason="Customer request", by=None)

    assert snapshot(account) == before


def test_close_account_checks_the_balance_under_the_lock_not_the_callers_copy():
    account = AccountFactory()
    stale = Account.objects.get(pk=account.pk)
    services.deposit(account=account, amount=100, initiated_by=None)

    with pytest.raises(BalanceNotZeroError):
        services.close_account(account=stale, reason="Customer request", by=None)


@pytest.mark.parametrize(
    "service", [services.freeze_account, services.unfreeze_account, services.close_account]
)
def test_status_change_refuses_a_closed_account_and_writes_nothing(service):
    account = closed_account()
    before = snapshot(account)

    with pytest.raises(AccountInactiveError):
        service(account=account, reason="after closing", by=None)

    assert snapshot(account) == before


# --- the books after a mix of operations ----------------------------------------------------


def test_services_keep_every_transaction_balanced_and_balances_equal_entry_sums():
    a, b = funded_account(5000), funded_account(100)
    t = send(a, b, 1200)
    services.withdraw(account=b, amount=100, initiated_by=None)
    services.reverse(original=t, initiated_by=None, reason="error")

    for txn in Transaction.objects.all():
        assert sum(txn.entries.values_list("amount", flat=True)) == 0
    for account in Account.objects.all():
        assert account.ledger_balance() == sum(
            Entry.objects.filter(account=account).values_list("amount", flat=True)
        )
