"""Four eyes (issue 13, API.md "Approvals"): a staff deposit, withdrawal or reversal above the
approval limit of its currency posts nothing and waits; a different approver approves it (it
posts then, through the same service, the rules checked again) or rejects it; a request
expires after a day; every step is in the audit record."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import AuditRecord
from conftest import bearer, staff_member
from ledger import services
from ledger.errors import ApprovalClosedError, OwnRequestError
from ledger.models import ApprovalRequest, Transaction
from ledger.tests.api import POSTED_FIELDS, action_url, error_of
from ledger.tests.factories import (
    AccountFactory,
    account_for,
    balance_of,
    clock,
    funded_account,
    ledger_rows,
    send,
)

pytestmark = pytest.mark.django_db

APPROVALS = "/api/v1/approvals/"
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
LIMIT = 500


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.APPROVAL_LIMIT = LIMIT
    settings.APPROVAL_LIMITS = {}


def url(request, action: str = "") -> str:
    return f"{APPROVALS}{request.pk}/" + (f"{action}/" if action else "")


def ask(kind: str = "deposit", *, amount: int = 900, account=None, by=None) -> ApprovalRequest:
    """A teller's movement above the limit: the pending request it makes."""
    account = account or funded_account(10_000)
    by = by or staff_member("teller")
    service = services.deposit if kind == "deposit" else services.withdraw
    request = service(account=account, amount=amount, initiated_by=by, description="Branch")
    assert isinstance(request, ApprovalRequest)
    return request


def reversal_request(*, amount: int = 900) -> tuple[ApprovalRequest, Transaction]:
    payer, payee = funded_account(10_000), AccountFactory()
    original = send(payer, payee, amount)
    request = services.reverse(
        original=original, initiated_by=staff_member("back office"), reason="Paid twice"
    )
    assert isinstance(request, ApprovalRequest)
    return request, original


def audit_actions(request: ApprovalRequest) -> list[str]:
    return list(
        AuditRecord.objects.filter(details__approval_request=str(request.pk))
        .order_by("created_at")
        .values_list("action", flat=True)
    )


# --- the limit, per currency -------------------------------------------------------------------


def test_approval_limit_is_per_currency_with_approval_limit_for_the_rest(settings):
    settings.APPROVAL_LIMITS = {"JPY": 100_000}

    assert services.approval_limit("JPY") == 100_000
    assert services.approval_limit("EUR") == LIMIT


def test_approval_limits_setting_defaults_to_none_named():
    from bankproject import settings as project_settings

    assert project_settings.APPROVAL_LIMITS == {}


@pytest.mark.parametrize(
    ("currency", "amount", "expected"),
    [("JPY", 900, 201), ("JPY", 100_001, 202), ("EUR", 900, 202)],
)
def test_money_endpoint_uses_the_limit_of_the_accounts_currency(
    settings, currency, amount, expected
):
    settings.APPROVAL_LIMITS = {"JPY": 100_000}
    account = funded_account(1_000_000, currency=currency)

    response = bearer(staff_member("teller")).post(
        action_url(account, "deposits"), {"amount": amount, "description": "Till"}
    )

    assert response.status_code == expected, response.content


# --- approve ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "moved"), [("deposit", 900), ("withdrawal", -900)])
def test_approve_posts_with_the_requester_as_initiator_and_the_approver_recorded(
    approver, kind, moved
):
    teller = staff_member("teller")
    account = funded_account(10_000)
    request = ask(kind, account=account, by=teller)

    response = bearer(approver).post(url(request, "approve"))

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == POSTED_FIELDS
    assert (body["kind"], body["account"], body["amount"]) == (kind, str(account.pk), 900)
    assert body["balance_after"] == balance_of(account) == 10_000 + moved
    txn = Transaction.objects.get(pk=body["id"])
    assert txn.initiated_by == teller
    request.refresh_from_db()
    assert (request.status, request.decided_by, request.transaction) == (
        "approved",
        approver,
        txn,
    )
    assert request.decided_at is not None
    assert audit_actions(request) == ["request_approval", "approve"]
    approve = AuditRecord.objects.get(action="approve")
    assert approve.actor == approver and approve.details["transaction"] == str(txn.pk)
    posted = AuditRecord.objects.get(
        action="deposit" if kind == "deposit" else "withdraw", actor__isnull=False
    )
    assert posted.actor == teller and posted.details["approved_by"] == str(approver.pk)


def test_approve_own_request_is_refused_and_posts_nothing():
    both = staff_member("teller", "approver")
    request = ask(by=both)
    before = ledger_rows()

    response = bearer(both).post(url(request, "approve"))

    error_of(response, 422, "own_request")
    assert ledger_rows() == before
    request.refresh_from_db()
    assert request.status == "pending"


def test_approve_twice_posts_once(approver):
    request = ask()
    first = bearer(approver).post(url(request, "approve"))
    before = ledger_rows()

    again = bearer(staff_member("approver")).post(url(request, "approve"))

    assert first.status_code == 201
    error_of(again, 422, "approval_closed")
    assert ledger_rows() == before


def test_approve_after_the_account_was_frozen_refuses_and_leaves_it_pending(approver):
    account = funded_account(10_000)
    request = ask(account=account)
    services.freeze_account(account=account, reason="Fraud review", by=None)
    before = ledger_rows()

    response = bearer(approver).post(url(request, "approve"))

    error_of(response, 422, "account_inactive")
    assert ledger_rows() == before
    request.refresh_from_db()
    assert request.status == "pending"
    assert "approve" not in audit_actions(request)


def test_approve_a_withdrawal_after_the_account_was_emptied_refuses(approver):
    account = funded_account(1_000)
    request = ask("withdrawal", account=account, amount=900)
    services.withdraw(account=account, amount=500, initiated_by=None)
    before = ledger_rows()

    response = bearer(approver).post(url(request, "approve"))

    error_of(response, 422, "insufficient_funds")
    assert ledger_rows() == before
    assert balance_of(account) == 500


def test_approve_by_an_approver_who_holds_the_account_is_refused(approver):
    account = account_for(approver, amount=10_000)  # staff are customers too
    request = ask(account=account)
    before = ledger_rows()

    response = bearer(approver).post(url(request, "approve"))

    error_of(response, 403, "permission_denied")
    assert ledger_rows() == before


def test_approve_an_expired_request_refuses_and_stores_it_expired(approver):
    with clock(datetime.now(UTC) - timedelta(hours=25)):
        request = ask()
    before = ledger_rows()

    response = bearer(approver).post(url(request, "approve"))

    error_of(response, 422, "approval_closed")
    assert ledger_rows() == before
    request.refresh_from_db()
    assert request.status == "expired"
    expired = AuditRecord.objects.get(action="expire")
    assert expired.actor is None and expired.details["approval_request"] == str(request.pk)


def test_approve_service_refusals_are_their_own_errors(approver):
    both = staff_member("teller", "approver")
    request = ask(by=both)

    with pytest.raises(OwnRequestError):
        services.approve_request(approval=request, by=both)
    services.reject_request(approval=request, by=approver, reason="No")
    with pytest.raises(ApprovalClosedError):
        services.approve_request(approval=request, by=approver)
    assert (OwnRequestError.code, ApprovalClosedError.code) == ("own_request", "approval_closed")
    assert OwnRequestError.http_status == ApprovalClosedError.http_status == 422


@pytest.mark.parametrize("role", ["teller", "back office", "auditor"])
def test_approve_and_reject_answer_only_approvers(role):
    request = ask()
    client = bearer(staff_member(role))

    approve = client.post(url(request, "approve"))
    reject = client.post(url(request, "reject"), {"reason": "No"})

    error_of(approve, 403, "permission_denied")
    error_of(reject, 403, "permission_denied")
    request.refresh_from_db()
    assert request.status == "pending"


def test_approve_an_unknown_request_is_404(approver):
    response = bearer(approver).post(f"{APPROVALS}{uuid.uuid4()}/approve/")

    error_of(response, 404, "not_found")


# --- reversals -------------------------------------------------------------------------------


def test_reversal_above_the_limit_posts_nothing_and_waits():
    payer, payee = funded_account(10_000), AccountFactory()
    original = send(payer, payee, 900)
    before = ledger_rows()

    request = services.reverse(
        original=original, initiated_by=staff_member("back office"), reason="Paid twice"
    )

    assert isinstance(request, ApprovalRequest)
    assert (request.kind, request.amount, request.account, request.reverses) == (
        "reversal",
        900,
        payee,  # the side the reversal takes money from
        original,
    )
    assert ledger_rows() == before


def test_reversal_at_the_limit_posts():
    payer, payee = funded_account(10_000), AccountFactory()
    original = send(payer, payee, LIMIT)

    reversal = services.reverse(
        original=original, initiated_by=staff_member("back office"), reason="Paid twice"
    )

    assert isinstance(reversal, Transaction) and reversal.reverses == original


def test_approve_a_reversal_posts_it(approver):
    request, original = reversal_request()

    response = bearer(approver).post(url(request, "approve"))

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["account"], body["amount"]) == (
        "reversal",
        str(request.account_id),
        900,
    )
    reversal = Transaction.objects.get(pk=body["id"])
    assert reversal.reverses == original and reversal.initiated_by == request.requested_by
    assert balance_of(request.account) == 0


def test_approve_a_reversal_of_a_transaction_reversed_since_refuses(approver):
    request, original = reversal_request()
    services.reverse(original=original, initiated_by=None, reason="Bank process")
    before = ledger_rows()

    response = bearer(approver).post(url(request, "approve"))

    error_of(response, 422, "already_reversed")
    assert ledger_rows() == before


def test_a_reversal_request_must_name_its_original():
    account, teller = funded_account(100), staff_member("teller")
    now = timezone.now()

    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.create(
            kind="reversal",
            account=account,
            amount=1,
            currency="EUR",
            description="x",
            requested_by=teller,
            expires_at=now,
        )


def test_an_approved_request_must_name_what_it_posted():
    request = ask()

    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.filter(pk=request.pk).update(status="approved")


# --- reject ----------------------------------------------------------------------------------


def test_reject_records_who_and_why_and_posts_nothing(approver):
    request = ask()
    before = ledger_rows()

    response = bearer(approver).post(url(request, "reject"), {"reason": "No ID shown"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == APPROVAL_FIELDS
    assert (body["status"], body["decided_by"]) == ("rejected", str(approver.pk))
    assert body["decided_at"] is not None
    assert ledger_rows() == before
    request.refresh_from_db()
    assert request.decision_reason == "No ID shown"
    assert audit_actions(request) == ["request_approval", "reject"]
    assert AuditRecord.objects.get(action="reject").reason == "No ID shown"


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "x" * 501}, {"why": "x"}])
def test_reject_needs_a_reason(approver, body):
    request = ask()

    response = bearer(approver).post(url(request, "reject"), body, format="json")

    error_of(response, 400, "validation_error")
    request.refresh_from_db()
    assert request.status == "pending"


def test_reject_service_refuses_a_blank_reason(approver):
    request = ask()

    with pytest.raises(Exception) as refused:
        services.reject_request(approval=request, by=approver, reason="  ")

    assert refused.value.code == "validation_error"


def test_reject_a_decided_request_is_refused(approver):
    request = ask()
    bearer(approver).post(url(request, "approve"))

    response = bearer(approver).post(url(request, "reject"), {"reason": "Too late"})

    error_of(response, 422, "approval_closed")
    request.refresh_from_db()
    assert request.status == "approved"


def test_reject_an_expired_request_is_refused_and_stores_it_expired(approver):
    with clock(datetime.now(UTC) - timedelta(hours=25)):
        request = ask()

    response = bearer(approver).post(url(request, "reject"), {"reason": "Stale"})

    error_of(response, 422, "approval_closed")
    request.refresh_from_db()
    assert request.status == "expired"


def test_the_requester_may_withdraw_their_own_request_by_rejecting_it():
    both = staff_member("teller", "approver")
    request = ask(by=both)

    response = bearer(both).post(url(request, "reject"), {"reason": "Typed too many zeros"})

    assert response.status_code == 200
    assert response.json()["status"] == "rejected"


# --- reading ---------------------------------------------------------------------------------


def test_list_is_newest_first_and_paginated(approver):
    older = ask()
    newer = ask()

    first = bearer(approver).get(APPROVALS, {"limit": 1})
    second = bearer(approver).get(first.json()["next"])

    assert first.status_code == 200
    assert [r["id"] for r in first.json()["results"]] == [str(newer.pk)]
    assert [r["id"] for r in second.json()["results"]] == [str(older.pk)]
    assert set(first.json()["results"][0]) == APPROVAL_FIELDS


def test_list_filters_by_the_status_a_person_sees(approver):
    with clock(datetime.now(UTC) - timedelta(hours=25)):
        stale = ask()  # stored pending, past its lifetime
    pending = ask()
    rejected = ask()
    services.reject_request(approval=rejected, by=approver, reason="No")
    client = bearer(approver)

    def ids(status):
        response = client.get(APPROVALS, {"status": status})
        assert response.status_code == 200
        return {r["id"] for r in response.json()["results"]}

    assert ids("pending") == {str(pending.pk)}
    assert ids("expired") == {str(stale.pk)}
    assert ids("rejected") == {str(rejected.pk)}
    assert ids("approved") == set()
    assert {r["status"] for r in client.get(APPROVALS).json()["results"]} == {
        "pending",
        "expired",
        "rejected",
    }


def test_list_refuses_an_unknown_status(approver):
    error_of(bearer(approver).get(APPROVALS, {"status": "maybe"}), 400, "validation_error")


@pytest.mark.parametrize("role", ["teller", "back office", "auditor", None])
def test_list_answers_only_approvers(role):
    ask()
    user = staff_member(role) if role else staff_member()

    error_of(bearer(user).get(APPROVALS), 403, "permission_denied")


def test_customers_are_refused_every_approvals_endpoint(customer_api):
    request = ask()

    for response in [
        customer_api.get(APPROVALS),
        customer_api.get(url(request)),
        customer_api.post(url(request, "approve")),
        customer_api.post(url(request, "reject"), {"reason": "x"}),
    ]:
        error_of(response, 403, "permission_denied")


def test_one_request_is_read_by_approvers_and_its_requester_only(approver):
    teller = staff_member("teller")
    request = ask(by=teller)

    by_approver = bearer(approver).get(url(request))
    by_requester = bearer(teller).get(url(request))
    by_other_teller = bearer(staff_member("teller")).get(url(request))

    assert by_approver.status_code == by_requester.status_code == 200
    assert by_requester.json()["id"] == str(request.pk)
    error_of(by_other_teller, 404, "not_found")


def test_one_request_reads_expired_past_its_lifetime(approver):
    with clock(datetime.now(UTC) - timedelta(hours=25)):
        request = ask()

    assert bearer(approver).get(url(request)).json()["status"] == "expired"


def test_an_unknown_request_is_404(approver):
    error_of(bearer(approver).get(f"{APPROVALS}{uuid.uuid4()}/"), 404, "not_found")


def test_schema_lists_the_approvals_endpoints_and_their_statuses(api):
    paths = api.get("/api/v1/schema/", {"format": "json"}).json()["paths"]

    assert set(paths[APPROVALS]["get"]["responses"]) >= {"200", "400", "401", "403"}
    assert set(paths[APPROVALS + "{id}/"]["get"]["responses"]) >= {"200", "401", "403", "404"}
    approve = paths[APPROVALS + "{id}/approve/"]["post"]["responses"]
    assert set(approve) >= {"201", "401", "403", "404", "422"}
    reject = paths[APPROVALS + "{id}/reject/"]["post"]["responses"]
    assert set(reject) >= {"200", "400", "401", "403", "404", "422"}
    status = next(p for p in paths[APPROVALS]["get"]["parameters"] if p["name"] == "status")
    assert set(status["schema"]["enum"]) == {"pending", "approved", "rejected", "expired"}
