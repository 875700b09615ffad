"""The admin checks the same permissions as the API (ledger/permissions.py) and its doors
reach the same staff rules (the services): each role sees and does only its job."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from audit.models import AuditRecord
from conftest import staff_member
from ledger import services
from ledger.models import Account, ApprovalRequest, Transaction
from ledger.tests.factories import AccountFactory, account_for, balance_of, funded_account

pytestmark = pytest.mark.django_db

ROLES = ["teller", "back office", "approver", "auditor"]
ACCOUNT_ACTIONS = {"freeze_selected", "unfreeze_selected", "close_selected"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def offered_actions(client, changelist: str) -> set[str]:
    response = client.get(reverse(changelist))
    assert response.status_code == 200
    form = response.context["action_form"]
    if form is None:  # no action offered at all
        return set()
    return {name for name, _label in form.fields["action"].choices if name}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("service", ["deposit", "withdraw"])
def test_admin_money_page_answers_only_a_teller(role, service):
    client = client_for(staff_member(role))
    account = funded_account(1000)
    url = reverse(f"admin:ledger_account_{service}", args=[account.pk])

    page = client.get(url)
    posted = client.post(url, {"amount": "1.00", "description": "Till"})

    moved = {"deposit": 100, "withdraw": -100}[service] if role == "teller" else 0
    assert page.status_code == (200 if role == "teller" else 403)
    assert posted.status_code == (302 if role == "teller" else 403)
    assert balance_of(account) == 1000 + moved


@pytest.mark.parametrize("role", ROLES)
def test_admin_offers_account_actions_only_to_back_office(role):
    client = client_for(staff_member(role))

    offered = offered_actions(client, "admin:ledger_account_changelist")

    assert offered == (ACCOUNT_ACTIONS if role == "back office" else set())


@pytest.mark.parametrize("role", ROLES)
def test_admin_offers_reversal_only_to_back_office(role):
    client = client_for(staff_member(role))

    offered = offered_actions(client, "admin:ledger_transaction_changelist")

    assert offered == ({"reverse_selected"} if role == "back office" else set())


@pytest.mark.parametrize("role", ["teller", "approver", "auditor"])
def test_admin_status_action_posted_by_hand_does_nothing_without_the_permission(role):
    client = client_for(staff_member(role))
    account = AccountFactory()

    client.post(
        reverse("admin:ledger_account_changelist"),
        {
            "action": "freeze_selected",
            ACTION_CHECKBOX_NAME: [str(account.pk)],
            "apply": "1",
            "reason": "tried",
        },
    )

    assert Account.objects.get(pk=account.pk).status == Account.Status.ACTIVE
    assert not AuditRecord.objects.filter(action="freeze").exists()


@pytest.mark.parametrize("role", ["teller", "approver", "auditor"])
def test_admin_reverse_posted_by_hand_does_nothing_without_the_permission(role):
    client = client_for(staff_member(role))
    original = services.deposit(account=AccountFactory(), amount=500, initiated_by=None)

    client.post(
        reverse("admin:ledger_transaction_changelist"),
        {
            "action": "reverse_selected",
            ACTION_CHECKBOX_NAME: [str(original.pk)],
            "apply": "1",
            "reason": "tried",
        },
    )

    assert not Transaction.objects.filter(kind="reversal").exists()


def test_admin_money_page_lets_a_teller_move_money_and_shows_the_links():
    teller = staff_member("teller")
    client = client_for(teller)
    account = funded_account(1000)

    change = client.get(reverse("admin:ledger_account_change", args=[account.pk]))
    client.post(
        reverse("admin:ledger_account_deposit", args=[account.pk]),
        {"amount": "2.50", "description": "Till"},
    )

    assert reverse("admin:ledger_account_deposit", args=[account.pk]) in change.content.decode()
    assert balance_of(account) == 1250


def test_admin_account_page_shows_no_money_links_to_a_role_without_cash():
    client = client_for(staff_member("auditor"))
    account = funded_account(1000)

    change = client.get(reverse("admin:ledger_account_change", args=[account.pk]))

    assert change.status_code == 200
    assert reverse("admin:ledger_account_deposit", args=[account.pk]) not in (
        change.content.decode()
    )


# --- own account: every admin door refuses ---------------------------------------------------


@pytest.mark.parametrize("service", ["deposit", "withdraw"])
def test_admin_money_page_refuses_the_tellers_own_account(service):
    teller = staff_member("teller")
    own = account_for(teller, amount=1000)

    response = client_for(teller).post(
        reverse(f"admin:ledger_account_{service}", args=[own.pk]),
        {"amount": "1.00", "description": "mine"},
    )

    assert response.status_code == 200
    assert "account they hold" in str(response.context["form"].non_field_errors())
    assert balance_of(own) == 1000
    assert not AuditRecord.objects.filter(actor=teller).exists()


@pytest.mark.parametrize("action", sorted(ACCOUNT_ACTIONS))
def test_admin_status_action_refuses_the_staff_members_own_account(action):
    clerk = staff_member("back office")
    own = account_for(clerk)

    response = client_for(clerk).post(
        reverse("admin:ledger_account_changelist"),
        {"action": action, ACTION_CHECKBOX_NAME: [str(own.pk)], "apply": "1", "reason": "mine"},
        follow=True,
    )

    assert "account they hold" in response.content.decode()
    assert Account.objects.get(pk=own.pk).status == Account.Status.ACTIVE
    assert not AuditRecord.objects.filter(actor=clerk).exists()


def test_admin_reverse_refuses_a_transaction_on_the_staff_members_own_account():
    clerk = staff_member("back office")
    own = account_for(clerk)
    original = services.deposit(account=own, amount=500, initiated_by=None)

    response = client_for(clerk).post(
        reverse("admin:ledger_transaction_changelist"),
        {
            "action": "reverse_selected",
            ACTION_CHECKBOX_NAME: [str(original.pk)],
            "apply": "1",
            "reason": "mine",
        },
        follow=True,
    )

    assert "account they hold" in response.content.decode()
    assert not Transaction.objects.filter(kind="reversal").exists()


# --- a description, the limit -----------------------------------------------------------------


@pytest.mark.parametrize("description", ["", "   "])
def test_admin_money_page_requires_a_description(admin_client, description):
    account = funded_account(1000)

    response = admin_client.post(
        reverse("admin:ledger_account_deposit", args=[account.pk]),
        {"amount": "1.00", "description": description},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["description"]
    assert balance_of(account) == 1000


def test_admin_status_action_requires_a_reason(admin_client):
    account = AccountFactory()

    admin_client.post(
        reverse("admin:ledger_account_changelist"),
        {
            "action": "freeze_selected",
            ACTION_CHECKBOX_NAME: [str(account.pk)],
            "apply": "1",
            "reason": "  ",
        },
    )

    assert Account.objects.get(pk=account.pk).status == Account.Status.ACTIVE


def test_admin_money_page_above_the_approval_limit_posts_nothing(admin_client, settings):
    settings.APPROVAL_LIMIT = 500
    account = funded_account(1000)

    response = admin_client.post(
        reverse("admin:ledger_account_deposit", args=[account.pk]),
        {"amount": "5.01", "description": "Big"},
        follow=True,
    )

    assert "above the approval limit" in response.content.decode()
    assert balance_of(account) == 1000
    request = ApprovalRequest.objects.get()
    assert (request.kind, request.amount, request.status) == ("deposit", 501, "pending")


@pytest.mark.parametrize("role", ["teller", "approver", "auditor", "back office"])
def test_staff_roles_can_read_approval_requests_and_change_none(role, settings):
    settings.APPROVAL_LIMIT = 500
    request = services.deposit(
        account=funded_account(1000),
        amount=501,
        initiated_by=staff_member("teller"),
        description="Big",
    )
    client = client_for(staff_member(role))

    page = client.get(reverse("admin:ledger_approvalrequest_change", args=[request.pk]))
    delete = client.post(reverse("admin:ledger_approvalrequest_delete", args=[request.pk]))

    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert delete.status_code == 403


# --- the auditor reads everything and changes nothing ------------------------------------------


@pytest.mark.parametrize(
    "changelist",
    [
        "admin:ledger_account_changelist",
        "admin:ledger_transaction_changelist",
        "admin:ledger_entry_changelist",
        "admin:ledger_idempotencykey_changelist",
        "admin:audit_auditrecord_changelist",
        "admin:accounts_user_changelist",
    ],
)
def test_auditor_can_view_the_admin_lists(changelist):
    funded_account(1000)

    response = client_for(staff_member("auditor")).get(reverse(changelist))

    assert response.status_code == 200


def test_auditor_cannot_change_an_account_or_a_user():
    auditor = staff_member("auditor")
    client = client_for(auditor)
    account = AccountFactory(nickname="before")

    page = client.get(reverse("admin:ledger_account_change", args=[account.pk]))
    renamed = client.post(
        reverse("admin:ledger_account_change", args=[account.pk]),
        {
            "nickname": "after",
            "status_changes-TOTAL_FORMS": "0",
            "status_changes-INITIAL_FORMS": "0",
        },
    )
    user_change = client.post(
        reverse("admin:accounts_user_change", args=[auditor.pk]), {"is_superuser": "on"}
    )

    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert renamed.status_code == 403
    assert user_change.status_code == 403
    assert Account.objects.get(pk=account.pk).nickname == "before"
    auditor.refresh_from_db()
    assert not auditor.is_superuser
