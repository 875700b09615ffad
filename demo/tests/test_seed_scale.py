"""The seed's bulk history: every ledger invariant holds, a re-run changes nothing, the cards
seam is there, some accounts are frozen, and production refuses it unless asked."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.utils import timezone

from accounts.models import User
from audit.models import AuditRecord
from cards.models import Card, CardPayment
from ledger.checks import check_ledger
from ledger.models import Account, AccountStatusChange, Entry, Transaction

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed", "--users", "20", "--months", "2", *args, verbosity=0, stdout=out)
    return out.getvalue()


def books() -> dict:
    return {
        "users": User.objects.count(),
        "accounts": sorted(Account.objects.values_list("number", "balance", "status")),
        "transactions": Transaction.objects.count(),
        "entries": Entry.objects.count(),
        "audit": AuditRecord.objects.count(),
        "status_changes": AccountStatusChange.objects.count(),
        "cards": Card.objects.count(),
        "card_payments": CardPayment.objects.count(),
    }


def test_seed_in_bulk_keeps_every_ledger_invariant():
    seed()

    report = check_ledger()
    assert report.ok, report.problems
    assert report.transactions > 20 * 2 * 8  # rent, bills, salary, groceries, cards... a month
    oldest = Entry.objects.order_by("created_at").first().created_at
    assert timedelta(days=55) < timezone.now() - oldest < timedelta(days=65)
    for account in Account.objects.customer():
        last = account.entries.order_by("-created_at", "-id").first()
        total = account.entries.aggregate(total=Sum("amount"))["total"] or 0
        assert account.balance == total == (last.balance_after if last else 0) >= 0


def test_seed_rerun_changes_nothing():
    seed()
    before = books()

    seed()

    assert books() == before


def test_seed_pays_by_card_at_named_merchants():
    seed()

    payments = Transaction.objects.filter(kind=Transaction.Kind.CARD_PAYMENT)
    descriptions = set(payments.values_list("description", flat=True))
    assert payments.count() > 20 * 2 * 4
    assert {"FreshCo Markets", "Spotify"} <= descriptions
    # A card payment to a merchant of another bank settles through the settlement account.
    assert Entry.objects.filter(
        transaction__description="Spotify", account__type=Account.Type.INTERNAL
    ).exists()


def test_seed_issues_cards_and_every_card_payment_names_its_card():
    seed()

    cards = Card.objects.all()
    assert cards.filter(account__type="checking").count() >= 20  # one per customer at least
    assert all(card.status == "active" and len(card.last4) == 4 for card in cards)
    payments = Transaction.objects.filter(kind=Transaction.Kind.CARD_PAYMENT)
    linked = CardPayment.objects.select_related("card", "transaction")
    assert linked.count() == payments.count()
    for payment in linked[:200]:
        txn = payment.transaction
        debit = txn.entries.get(amount__lt=0)
        assert debit.account_id == payment.card.account_id
        assert (payment.amount, payment.merchant) == (-debit.amount, txn.description)
        assert payment.created_at == txn.created_at


def test_seed_freezes_some_accounts_and_nothing_moves_after():
    seed()

    frozen = Account.objects.filter(status=Account.Status.FROZEN)
    assert frozen.exists()
    for account in frozen:
        change = AccountStatusChange.objects.get(account=account)
        assert change.to_status == Account.Status.FROZEN and change.reason
        assert not account.entries.filter(created_at__gte=change.created_at).exists()
        assert AuditRecord.objects.filter(action="freeze", target_id=account.pk).exists()


def test_seed_cash_movements_are_audited_like_the_services_do():
    seed()

    cash = Transaction.objects.filter(kind__in=["deposit", "withdrawal"])
    assert AuditRecord.objects.filter(action__in=["deposit", "withdraw"]).count() == cash.count()


def test_seed_after_history_adds_customers_through_the_deposit_service():
    seed()
    transactions = Transaction.objects.count()

    call_command("seed", "--users", "22", "--months", "2", verbosity=0, stdout=io.StringIO())

    assert Transaction.objects.count() == transactions + 2
    assert check_ledger().ok


@pytest.mark.parametrize("months", ["0", "61"])
def test_seed_refuses_a_history_out_of_range(months):
    with pytest.raises(CommandError, match="--months"):
        call_command("seed", "--months", months, verbosity=0)
    assert not User.objects.exists()


def test_seed_is_refused_in_production_unless_asked_for(settings):
    settings.PRODUCTION = True

    with pytest.raises(CommandError, match="--allow-production"):
        call_command("seed", "--users", "1", verbosity=0)
    assert not User.objects.exists()
