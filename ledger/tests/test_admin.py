"""Django admin: staff move money and change statuses only through the ledger services."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from accounts.tests.factories import HolderFactory
from ledger import services
from ledger.checks import check_ledger
from ledger.models import Account, AccountStatusChange, Entry, Transaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    holder = HolderFactory()
    return services.open_account(owner=holder.user, type="checking", currency="EUR")


def test_admin_deposit_posts_through_the_ledger(admin_client, admin_user, account):
    url = reverse("admin:ledger_account_deposit", args=[account.pk])

    response = admin_client.post(url, {"amount": "125.50", "description": "cash at branch"})

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.balance == 12550
    txn = Transaction.objects.get(kind="deposit")
    assert txn.initiated_by == admin_user
    assert check_ledger().ok


def test_admin_withdraw_refuses_overdraft_beside_the_amount_and_writes_nothing(
    admin_client, account
):
    url = reverse("admin:ledger_account_withdraw", args=[account.pk])

    response = admin_client.post(url, {"amount": "1.00", "description": "Till"})

    assert response.status_code == 200
    assert "enough money" in response.context["form"].errors["amount"][0]
    assert not Entry.objects.exists()


def test_admin_deposit_refuses_more_decimals_than_the_currency_has(admin_client, account):
    url = reverse("admin:ledger_account_deposit", args=[account.pk])

    response = admin_client.post(url, {"amount": "1.005"})

    assert response.status_code == 200
    assert response.context["form"].errors["amount"]
    assert not Entry.objects.exists()


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("10000000000000", "too large"),  # MAX_AMOUNT cents: the API's bound
        ("99999999999999999.99", "too large"),
        ("1e5", "in figures"),
        ("NaN", "in figures"),
        ("1" * 40, "at most 32 characters"),
        ("12,50", "without commas"),
    ],
    ids=["max", "huge", "1e5", "NaN", "40 digits", "comma"],
)
def test_admin_deposit_refuses_what_the_portal_refuses(admin_client, account, amount, message):
    url = reverse("admin:ledger_account_deposit", args=[account.pk])

    response = admin_client.post(url, {"amount": amount, "description": "Branch"})

    assert response.status_code == 200
    assert message in response.context["form"].errors["amount"][0]
    assert not Entry.objects.exists()


def test_admin_deposit_takes_the_largest_amount_the_api_takes(admin_client, account, settings):
    settings.APPROVAL_LIMIT = 10**15  # the amount's own bound, not the four-eyes limit
    url = reverse("admin:ledger_account_deposit", args=[account.pk])

    response = admin_client.post(url, {"amount": "9999999999999.99", "description": "Till"})

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.balance == 10**15 - 1


def test_admin_freeze_action_asks_why_and_records_who(admin_client, admin_user, account):
    url = reverse("admin:ledger_account_changelist")
    selected = {"action": "freeze_selected", ACTION_CHECKBOX_NAME: [str(account.pk)]}

    ask = admin_client.post(url, selected)
    done = admin_client.post(url, {**selected, "apply": "1", "reason": "suspected fraud"})

    assert ask.status_code == 200
    assert b"reason" in ask.content
    assert done.status_code == 302
    account.refresh_from_db()
    assert account.status == Account.Status.FROZEN
    change = AccountStatusChange.objects.get(account=account)
    assert (change.changed_by, change.reason, change.to_status) == (
        admin_user,
        "suspected fraud",
        "frozen",
    )


def test_admin_close_action_refuses_a_funded_account(admin_client, account, admin_user):
    services.deposit(account=account, amount=100, initiated_by=admin_user, description="Till")
    url = reverse("admin:ledger_account_changelist")

    admin_client.post(
        url,
        {
            "action": "close_selected",
            ACTION_CHECKBOX_NAME: [str(account.pk)],
            "apply": "1",
            "reason": "asked",
        },
    )

    account.refresh_from_db()
    assert account.status == Account.Status.ACTIVE


def test_admin_status_actions_leave_the_banks_own_accounts_alone(admin_client, account):
    services.deposit(account=account, amount=500, initiated_by=None)
    bank = Account.objects.get(type=Account.Type.INTERNAL, currency=account.currency)

    admin_client.post(
        reverse("admin:ledger_account_changelist"),
        {
            "action": "freeze_selected",
            ACTION_CHECKBOX_NAME: [str(bank.pk)],
            "apply": "1",
            "reason": "tried",
        },
    )

    bank.refresh_from_db()
    assert bank.status == Account.Status.ACTIVE
    assert not AccountStatusChange.objects.filter(account=bank).exists()


def test_admin_reverse_action_posts_an_opposite_transaction(admin_client, admin_user, account):
    original = services.deposit(
        account=account, amount=500, initiated_by=admin_user, description="Till"
    )
    url = reverse("admin:ledger_transaction_changelist")

    admin_client.post(
        url,
        {
            "action": "reverse_selected",
            ACTION_CHECKBOX_NAME: [str(original.pk)],
            "apply": "1",
            "reason": "deposited twice",
        },
    )

    account.refresh_from_db()
    assert account.balance == 0
    assert Transaction.objects.get(kind="reversal").reverses == original
    assert check_ledger().ok


def test_admin_cannot_edit_or_delete_ledger_rows(admin_client, admin_user, account):
    txn = services.deposit(account=account, amount=500, initiated_by=admin_user, description="Till")
    entry = txn.entries.first()

    assert (
        admin_client.get(reverse("admin:ledger_transaction_change", args=[txn.pk])).status_code
        == 200
    )
    assert (
        admin_client.post(reverse("admin:ledger_transaction_delete", args=[txn.pk])).status_code
        == 403
    )
    assert (
        admin_client.post(reverse("admin:ledger_entry_delete", args=[entry.pk])).status_code == 403
    )
    assert admin_client.get(reverse("admin:ledger_entry_add")).status_code == 403
    assert Entry.objects.filter(pk=entry.pk).exists()


def test_admin_account_balance_is_not_editable(admin_client, account):
    url = reverse("admin:ledger_account_change", args=[account.pk])

    admin_client.post(
        url,
        {
            "nickname": "renamed",
            "balance": "999999",
            "status_changes-TOTAL_FORMS": "0",
            "status_changes-INITIAL_FORMS": "0",
            "entries-TOTAL_FORMS": "0",  # the latest entries, read-only beside it
            "entries-INITIAL_FORMS": "0",
        },
    )

    account.refresh_from_db()
    assert account.balance == 0
    assert account.nickname == "renamed"


def test_customer_cannot_reach_admin_money_views(client, account):
    client.force_login(account.holder.user)

    response = client.get(reverse("admin:ledger_account_deposit", args=[account.pk]))

    assert response.status_code == 302  # to the admin login
    assert "/admin/login/" in response["Location"]


def test_admin_pages_render(admin_client, account):
    for name in (
        "ledger_account_changelist",
        "ledger_transaction_changelist",
        "ledger_entry_changelist",
        "accounts_user_changelist",
    ):
        assert admin_client.get(reverse(f"admin:{name}")).status_code == 200
    assert (
        admin_client.get(reverse("admin:ledger_account_change", args=[account.pk])).status_code
        == 200
    )
    assert admin_client.get(reverse("admin:accounts_user_add")).status_code == 200
