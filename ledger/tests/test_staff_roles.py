"""Staff roles on the API's staff endpoints (issue 9 item 6, API.md "Staff only means ..."):
each endpoint answers only to a role holding its permission; nobody acts on an account they
hold; a description or reason is required; above APPROVAL_LIMIT nothing is posted."""

import importlib
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from accounts.tests.factories import UserFactory
from audit.models import AuditRecord
from conftest import bearer, staff_member
from ledger import services
from ledger.models import Account, ApprovalRequest, Transaction
from ledger.permissions import STAFF_ACTION_PERMISSIONS, HoldsStaffPermission, may
from ledger.tests.api import action_url, error_of
from ledger.tests.factories import (
    AccountFactory,
    account_for,
    balance_of,
    clock,
    funded_account,
    ledger_rows,
)
from ledger.views import AccountViewSet

pytestmark = pytest.mark.django_db

MONEY = ["deposits", "withdrawals"]
STATUS = ["freeze", "unfreeze", "close"]
ENDPOINTS = MONEY + STATUS
ROLES = ["teller", "back office", "approver", "auditor", None]  # None: staff with no role
ALLOWED = {"teller": set(MONEY), "back office": set(STATUS), "approver": set(), "auditor": set()}


def body_for(endpoint: str, amount: int = 100) -> dict:
    if endpoint in MONEY:
        return {"amount": amount, "description": "Branch"}
    return {"reason": "Review"}


def account_for_endpoint(endpoint: str) -> Account:
    # close needs an empty account; a withdrawal needs money
    return funded_account(1000) if endpoint != "close" else AccountFactory()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "no role")
def test_staff_endpoint_answers_each_role_by_its_permission(role, endpoint):
    user = staff_member(role) if role else staff_member()
    account = account_for_endpoint(endpoint)
    before = ledger_rows()

    response = bearer(user).post(action_url(account, endpoint), body_for(endpoint))

    if endpoint in ALLOWED.get(role, set()):
        assert response.status_code in (200, 201), response.content
    else:
        error_of(response, 403, "permission_denied")
        assert ledger_rows() == before
        assert Account.objects.get(pk=account.pk).status == Account.Status.ACTIVE
        assert not AuditRecord.objects.filter(actor=user).exists()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_staff_endpoint_answers_a_superuser(endpoint):
    boss = UserFactory(is_staff=True, is_superuser=True)

    response = bearer(boss).post(
        action_url(account_for_endpoint(endpoint), endpoint), body_for(endpoint)
    )

    assert response.status_code in (200, 201), response.content


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_staff_endpoint_refuses_a_customer_holding_the_permission(endpoint):
    """The permission alone is not staff: `is_staff` off is a customer, whatever groups."""
    user = UserFactory()
    user.groups.set(Group.objects.filter(name__in=["teller", "back office"]))

    response = bearer(user).post(
        action_url(account_for_endpoint(endpoint), endpoint), body_for(endpoint)
    )

    error_of(response, 403, "permission_denied")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("superuser", [False, True], ids=["staff", "superuser"])
def test_staff_endpoint_refuses_the_staff_members_own_account_with_403(endpoint, superuser):
    user = staff_member("teller", "back office")
    user.is_superuser = superuser
    user.save()
    own = account_for(user, amount=1000 if endpoint != "close" else 0)
    before = ledger_rows()

    response = bearer(user).post(action_url(own, endpoint), body_for(endpoint))

    error_of(response, 403, "permission_denied")
    assert ledger_rows() == before
    assert Account.objects.get(pk=own.pk).status == Account.Status.ACTIVE
    assert not AuditRecord.objects.filter(actor=user).exists()


@pytest.mark.parametrize("endpoint", MONEY)
@pytest.mark.parametrize("body", [{}, {"description": ""}, {"description": "   "}])
def test_money_endpoint_requires_a_description_with_400(staff_api, endpoint, body):
    account = funded_account(1000)
    before = ledger_rows()

    response = staff_api.post(action_url(account, endpoint), {"amount": 100, **body})

    assert "description" in error_of(response, 400, "validation_error")
    assert ledger_rows() == before


@pytest.mark.parametrize("endpoint", STATUS)
@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "  \n "}])
def test_status_endpoint_requires_a_reason_with_400(staff_api, endpoint, body):
    account = AccountFactory()

    response = staff_api.post(action_url(account, endpoint), body)

    assert "reason" in error_of(response, 400, "validation_error")
    assert Account.objects.get(pk=account.pk).status == Account.Status.ACTIVE


APPROVAL_FIELDS = {
    "id",
    "kind",
    "account",
    "amount",
    "currency",
    "description",
    "status",
    "requested_by",
    "decided_by",
    "created_at",
    "decided_at",
    "expires_at",
}


@pytest.mark.parametrize(
    ("endpoint", "kind"), [("deposits", "deposit"), ("withdrawals", "withdrawal")]
)
def test_money_endpoint_above_the_approval_limit_posts_nothing_and_answers_202(
    staff, staff_api, endpoint, kind, settings
):
    settings.APPROVAL_LIMIT = 500
    account = funded_account(10_000)
    before = ledger_rows()

    response = staff_api.post(action_url(account, endpoint), body_for(endpoint, amount=501))

    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) == APPROVAL_FIELDS
    assert (body["kind"], body["account"], body["amount"], body["currency"]) == (
        kind,
        str(account.pk),
        501,
        "EUR",
    )
    assert (body["status"], body["requested_by"], body["decided_by"]) == (
        "pending",
        str(staff.pk),
        None,
    )
    request = ApprovalRequest.objects.get(pk=body["id"])
    assert request.expires_at - request.created_at == timedelta(hours=24)
    assert ledger_rows() == before
    assert balance_of(account) == 10_000


def test_money_endpoint_above_the_limit_still_refuses_what_the_ledger_refuses(staff_api, settings):
    settings.APPROVAL_LIMIT = 500

    response = staff_api.post(
        action_url(funded_account(600), "withdrawals"), body_for("withdrawals", amount=601)
    )

    error_of(response, 422, "insufficient_funds")
    assert not ApprovalRequest.objects.exists()


def test_money_endpoint_above_the_limit_replays_its_202_for_the_same_key(staff_api, settings):
    settings.APPROVAL_LIMIT = 500
    url, key = action_url(funded_account(10_000), "deposits"), {"HTTP_IDEMPOTENCY_KEY": "big-1"}

    first = staff_api.post(url, body_for("deposits", amount=900), **key)
    again = staff_api.post(url, body_for("deposits", amount=900), **key)

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert ApprovalRequest.objects.count() == 1


def test_an_approval_request_past_its_lifetime_reads_expired(staff, settings):
    settings.APPROVAL_LIMIT = 500
    account = funded_account(10_000)
    with clock(datetime.now(UTC) - timedelta(hours=25)):
        request = services.deposit(
            account=account, amount=501, initiated_by=staff, description="Old"
        )

    assert (request.status, request.current_status) == ("pending", "expired")


@pytest.mark.parametrize("endpoint", MONEY)
def test_money_endpoint_at_the_approval_limit_posts(staff_api, endpoint, settings):
    settings.APPROVAL_LIMIT = 500
    account = funded_account(10_000)

    response = staff_api.post(action_url(account, endpoint), body_for(endpoint, amount=500))

    assert response.status_code == 201, response.content


def test_approval_limit_defaults_to_ten_thousand_in_major_units(settings):
    from bankproject import settings as project_settings

    assert project_settings.APPROVAL_LIMIT == 1_000_000


# --- the rules in the service: every door refuses ---------------------------------------------


@pytest.mark.parametrize("service", [services.deposit, services.withdraw])
def test_money_service_refuses_the_initiators_own_account(service):
    user = UserFactory(is_staff=True)
    own = account_for(user, amount=1000)

    with pytest.raises(Exception) as refused:
        service(account=own, amount=100, initiated_by=user, description="mine")

    assert getattr(refused.value, "code", None) == "permission_denied"
    assert balance_of(own) == 1000


@pytest.mark.parametrize(
    "service", [services.freeze_account, services.unfreeze_account, services.close_account]
)
def test_status_service_refuses_the_initiators_own_account(service):
    user = UserFactory(is_staff=True)
    own = account_for(user)

    with pytest.raises(Exception) as refused:
        service(account=own, reason="mine", by=user)

    assert getattr(refused.value, "code", None) == "permission_denied"
    assert Account.objects.get(pk=own.pk).status == Account.Status.ACTIVE


def test_reverse_refuses_a_transaction_on_the_initiators_own_account():
    user = UserFactory(is_staff=True)
    own = account_for(user)
    original = services.withdraw(
        account=funded_account(1000, holder=own.holder), amount=100, initiated_by=None
    )

    with pytest.raises(Exception) as refused:
        services.reverse(original=original, initiated_by=user, reason="give it back")

    assert getattr(refused.value, "code", None) == "permission_denied"
    assert not Transaction.objects.filter(kind="reversal").exists()


def test_reverse_requires_a_reason():
    original = services.deposit(account=AccountFactory(), amount=100, initiated_by=None)

    with pytest.raises(Exception) as refused:
        services.reverse(original=original, initiated_by=UserFactory(is_staff=True), reason=" ")

    assert getattr(refused.value, "code", None) == "validation_error"
    assert not Transaction.objects.filter(kind="reversal").exists()


# --- the one mapping ----------------------------------------------------------------------------


def test_every_api_staff_endpoint_names_a_mapped_staff_action():
    assert set(AccountViewSet.staff_actions) == set(ENDPOINTS)
    assert set(AccountViewSet.staff_actions.values()) <= set(STAFF_ACTION_PERMISSIONS)
    assert HoldsStaffPermission.staff_only  # the schema documents the 403


def test_every_mapped_permission_exists():
    for perm in set(STAFF_ACTION_PERMISSIONS.values()):
        app_label, codename = perm.split(".")
        assert Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).exists(), perm


@pytest.mark.parametrize(
    ("role", "actions"),
    [
        ("teller", {"deposit", "withdraw"}),
        ("back office", {"freeze", "unfreeze", "close", "reverse"}),
        ("approver", {"approve"}),
        ("auditor", set()),
    ],
)
def test_each_role_may_exactly_its_actions(role, actions):
    user = staff_member(role)

    assert {action for action in STAFF_ACTION_PERMISSIONS if may(user, action)} == actions


def test_auditor_holds_every_view_permission_of_the_bank_and_nothing_else():
    auditor = Group.objects.get(name="auditor")
    bank = Permission.objects.filter(
        content_type__app_label__in=["accounts", "audit", "ledger", "statements", "cards"],
        codename__startswith="view_",
    )

    assert set(auditor.permissions.all()) == set(bank)
    assert set(bank.values_list("content_type__model", flat=True)) >= {
        "account",
        "transaction",
        "entry",
        "auditrecord",
        "user",
    }


def test_roles_migration_is_idempotent():
    roles = importlib.import_module("ledger.migrations.0004_roles")
    before = {g.name: set(g.permissions.all()) for g in Group.objects.all()}
    teller = Group.objects.get(name="teller")
    teller.permissions.add(Permission.objects.get(codename="change_status"))  # drift by hand

    approvals = importlib.import_module("ledger.migrations.0006_approval_request_roles")
    check_runs = importlib.import_module("ledger.migrations.0008_ledger_check_run_readers")
    # A later app's models give their readers their view permissions in their own migration.
    statements = importlib.import_module(
        "statements.migrations.0002_statement_append_only_and_auditor"
    )
    cards = importlib.import_module("cards.migrations.0002_card_roles")
    holds = importlib.import_module("cards.migrations.0004_card_authorization_roles")
    state_apps = (
        MigrationLoader(connection)
        .project_state(
            [
                ("ledger", "0008_ledger_check_run_readers"),
                ("statements", "0002_statement_append_only_and_auditor"),
                ("cards", "0004_card_authorization_roles"),
            ]
        )
        .apps
    )
    editor = SimpleNamespace(connection=connection)  # forward reads only its alias
    for _twice in range(2):
        roles.forward(state_apps, editor)
        approvals.forward(state_apps, editor)
        check_runs.forward(state_apps, editor)
        statements.readers_forward(state_apps, editor)
        cards.forward(state_apps, editor)
        holds.forward(state_apps, editor)

    assert {g.name: set(g.permissions.all()) for g in Group.objects.all()} == before
