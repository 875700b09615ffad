"""The audit trail: every staff action writes its record in the action's own transaction, with
who, what, why, when and the request id; a refused action leaves none; a failed record undoes
the action; the database refuses to change or remove a record; the admin only shows them."""

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.urls import reverse

from accounts.tests.factories import UserFactory
from audit import services as audit_services
from audit.models import AuditRecord
from conftest import staff_member
from core.logging import current_request_id
from ledger import services
from ledger.models import Account, Transaction
from ledger.tests.api import action_url, error_of
from ledger.tests.factories import AccountFactory, balance_of, funded_account, ledger_rows

pytestmark = pytest.mark.django_db


def test_api_deposit_writes_who_what_why_and_the_request_id(staff, staff_api):
    account = funded_account(100)

    response = staff_api.post(
        action_url(account, "deposits"), {"amount": 2500, "description": "Cash at branch"}
    )

    assert response.status_code == 201
    record = AuditRecord.objects.get(actor=staff)
    assert (record.action, record.target_type, record.target_id) == (
        "deposit",
        "account",
        account.pk,
    )
    assert record.target_label == str(account)
    assert record.reason == "Cash at branch"
    assert record.details == {
        "amount": 2500,
        "currency": "EUR",
        "transaction": response.json()["id"],
    }
    assert record.request_id and record.request_id == response["X-Request-ID"]
    assert record.created_at is not None


@pytest.mark.parametrize(
    ("endpoint", "to_status"),
    [("freeze", "frozen"), ("close", "closed")],
)
def test_api_status_change_writes_its_record(staff, staff_api, endpoint, to_status):
    account = AccountFactory()

    response = staff_api.post(action_url(account, endpoint), {"reason": "Fraud review"})

    assert response.status_code == 200
    record = AuditRecord.objects.get(actor=staff)
    assert (record.action, record.target_id, record.reason) == (
        endpoint,
        account.pk,
        "Fraud review",
    )
    assert record.details == {"from_status": "active", "to_status": to_status}
    assert record.request_id == response["X-Request-ID"]


def test_reversal_writes_a_record_naming_the_original_transaction():
    clerk = staff_member("back office")
    original = services.deposit(account=AccountFactory(), amount=500, initiated_by=None)

    reversal = services.reverse(original=original, initiated_by=clerk, reason="Deposited twice")

    record = AuditRecord.objects.get(actor=clerk)
    assert (record.action, record.target_type, record.target_id) == (
        "reverse",
        "transaction",
        original.pk,
    )
    assert record.details == {"reversal": str(reversal.pk)}
    assert record.request_id == ""  # outside a request


def test_admin_deposit_writes_its_record_with_the_admins_request_id(admin_client, admin_user):
    account = funded_account(100)

    response = admin_client.post(
        reverse("admin:ledger_account_deposit", args=[account.pk]),
        {"amount": "1.00", "description": "Till"},
    )

    record = AuditRecord.objects.get(actor=admin_user)
    assert (record.action, record.reason) == ("deposit", "Till")
    assert record.request_id == response["X-Request-ID"]


# --- refused: no record ------------------------------------------------------------------------


def test_a_refused_withdrawal_writes_no_record(staff, staff_api):
    account = funded_account(100)

    response = staff_api.post(
        action_url(account, "withdrawals"), {"amount": 101, "description": "Too much"}
    )

    error_of(response, 422, "insufficient_funds")
    assert not AuditRecord.objects.filter(actor=staff).exists()


def test_a_refused_close_writes_no_record(staff, staff_api):
    account = funded_account(100)

    response = staff_api.post(action_url(account, "close"), {"reason": "Asked"})

    error_of(response, 422, "balance_not_zero")
    assert not AuditRecord.objects.filter(actor=staff).exists()


def test_a_movement_over_the_limit_records_the_approval_request_not_a_deposit(
    staff, staff_api, settings
):
    settings.APPROVAL_LIMIT = 10
    account = funded_account(100)

    response = staff_api.post(action_url(account, "deposits"), {"amount": 11, "description": "Big"})

    record = AuditRecord.objects.get(actor=staff)
    assert (record.action, record.target_id, record.reason) == (
        "request_approval",
        account.pk,
        "Big",
    )
    assert record.details == {
        "kind": "deposit",
        "amount": 11,
        "currency": "EUR",
        "approval_request": response.json()["id"],
    }


# --- atomic: the action and its record commit together ------------------------------------------


def refusing_record(**kwargs):
    raise DatabaseError("the audit table refused the insert")


@pytest.mark.parametrize("service", [services.deposit, services.withdraw])
def test_a_failed_audit_write_undoes_the_money_movement(monkeypatch, service):
    account = funded_account(1000)
    before = ledger_rows()
    monkeypatch.setattr(audit_services.AuditRecord.objects, "create", refusing_record)

    with pytest.raises(DatabaseError):
        service(
            account=account, amount=100, initiated_by=UserFactory(is_staff=True), description="x"
        )

    assert ledger_rows() == before
    assert balance_of(account) == 1000


@pytest.mark.parametrize(
    "service", [services.freeze_account, services.unfreeze_account, services.close_account]
)
def test_a_failed_audit_write_undoes_the_status_change(monkeypatch, service):
    account = services.freeze_account(account=AccountFactory(), reason="x", by=None)
    monkeypatch.setattr(audit_services.AuditRecord.objects, "create", refusing_record)

    with pytest.raises(DatabaseError):
        service(account=account, reason="x", by=UserFactory(is_staff=True))

    assert Account.objects.get(pk=account.pk).status == Account.Status.FROZEN
    assert account.status_changes.count() == 1


def test_a_failed_audit_write_undoes_the_reversal(monkeypatch):
    original = services.deposit(account=AccountFactory(), amount=500, initiated_by=None)
    monkeypatch.setattr(audit_services.AuditRecord.objects, "create", refusing_record)

    with pytest.raises(DatabaseError):
        services.reverse(original=original, initiated_by=UserFactory(is_staff=True), reason="x")

    assert not Transaction.objects.filter(kind="reversal").exists()


@pytest.mark.django_db(transaction=True)
def test_a_record_is_only_written_inside_the_actions_transaction():
    account = AccountFactory()

    with pytest.raises(RuntimeError):
        audit_services.record(
            actor=None,
            action="freeze",
            target_type="account",
            target_id=account.pk,
            target_label=str(account),
            reason="on its own",
        )

    assert not AuditRecord.objects.exists()


def test_current_request_id_is_empty_outside_a_request():
    assert current_request_id() == ""


# --- the database refuses UPDATE and DELETE ---------------------------------------------------


@pytest.fixture
def record():
    services.freeze_account(account=AccountFactory(), reason="Fraud review", by=None)
    return AuditRecord.objects.get()


def test_the_database_refuses_to_update_a_record(record):
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditRecord.objects.filter(pk=record.pk).update(reason="nothing happened")

    assert AuditRecord.objects.get(pk=record.pk).reason == "Fraud review"


def test_the_database_refuses_to_delete_a_record(record):
    # below the ORM: the trigger, not Django, refuses
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditrecord WHERE id = %s", [record.pk.hex])

    assert AuditRecord.objects.filter(pk=record.pk).exists()


def test_the_database_refuses_to_delete_a_record_through_the_orm(record):
    with pytest.raises(IntegrityError), transaction.atomic():
        record.delete()

    assert AuditRecord.objects.filter(pk=record.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_flush_still_empties_the_database_and_the_guard_comes_back():
    services.freeze_account(account=AccountFactory(), reason="x", by=None)

    call_command("flush", interactive=False, verbosity=0)

    assert not AuditRecord.objects.exists()
    services.freeze_account(account=AccountFactory(), reason="y", by=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditRecord.objects.all().delete()


# --- the admin: read-only, for auditors and back office ---------------------------------------


@pytest.mark.parametrize("role", ["auditor", "back office"])
def test_auditors_and_back_office_can_read_the_audit_trail(client, record, role):
    client.force_login(staff_member(role))

    listing = client.get(reverse("admin:audit_auditrecord_changelist"))
    detail = client.get(reverse("admin:audit_auditrecord_change", args=[record.pk]))

    assert listing.status_code == 200 and b"Fraud review" in listing.content
    assert detail.status_code == 200 and b'name="_save"' not in detail.content


@pytest.mark.parametrize("role", ["teller", "approver"])
def test_tellers_and_approvers_do_not_see_the_audit_trail(client, record, role):
    client.force_login(staff_member(role))

    assert client.get(reverse("admin:audit_auditrecord_changelist")).status_code == 403


def test_nobody_edits_or_deletes_a_record_in_the_admin_not_even_a_superuser(admin_client, record):
    change = admin_client.post(
        reverse("admin:audit_auditrecord_change", args=[record.pk]), {"reason": "edited"}
    )
    delete = admin_client.post(
        reverse("admin:audit_auditrecord_delete", args=[record.pk]), {"post": "yes"}
    )
    add = admin_client.get(reverse("admin:audit_auditrecord_add"))

    assert (change.status_code, delete.status_code, add.status_code) == (403, 403, 403)
    assert AuditRecord.objects.get(pk=record.pk).reason == "Fraud review"
