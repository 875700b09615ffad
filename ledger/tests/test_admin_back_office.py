"""The admin a back office can use (issue 13): approvals decided on their own screens through
the services, customers and accounts found by email, name and number, an account page with
its balances, status history and latest entries, ledger rows and the audit record read-only
and filterable, a branded front page that starts with what needs attention."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from audit.models import AuditRecord
from conftest import staff_member
from ledger import services
from ledger.models import ApprovalRequest, Entry, LedgerCheckRun, Transaction
from ledger.numbers import format_account_number
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

LIMIT = 500


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.APPROVAL_LIMIT = LIMIT


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def ask(*, account=None, by=None, amount: int = 900) -> ApprovalRequest:
    return services.deposit(
        account=account or funded_account(10_000),
        amount=amount,
        initiated_by=by or staff_member("teller"),
        description="Branch",
    )


def decide_url(request, decision: str) -> str:
    return reverse(f"admin:ledger_approvalrequest_{decision}", args=[request.pk])


def changelist_ids(response) -> list:
    return [obj.pk for obj in response.context["cl"].result_list]


# --- approvals -------------------------------------------------------------------------------


def test_admin_approve_posts_through_the_service(approver):
    account = funded_account(10_000)
    request = ask(account=account)
    client = client_for(approver)

    confirm = client.get(decide_url(request, "approve"))
    done = client.post(decide_url(request, "approve"), follow=True)

    assert confirm.status_code == 200 and b"Approve" in confirm.content
    assert "Approved: posted transaction" in done.content.decode()
    assert balance_of(account) == 10_900
    request.refresh_from_db()
    assert (request.status, request.decided_by) == ("approved", approver)
    assert AuditRecord.objects.filter(action="approve", actor=approver).exists()


def test_admin_reject_asks_why_and_records_it(approver):
    request = ask()
    client = client_for(approver)

    page = client.get(decide_url(request, "reject"))
    without = client.post(decide_url(request, "reject"), {"reason": ""})
    done = client.post(decide_url(request, "reject"), {"reason": "No ID"}, follow=True)

    assert b'name="reason"' in page.content
    assert without.status_code == 200 and without.context["form"].errors["reason"]
    assert "Rejected: nothing was posted." in done.content.decode()
    request.refresh_from_db()
    assert (request.status, request.decision_reason) == ("rejected", "No ID")


def test_admin_approve_own_request_shows_the_refusal_and_posts_nothing():
    both = staff_member("teller", "approver")
    request = ask(by=both)
    before = ledger_rows()

    done = client_for(both).post(decide_url(request, "approve"), follow=True)

    assert "someone other than the person who made it" in done.content.decode()
    assert ledger_rows() == before
    request.refresh_from_db()
    assert request.status == "pending"


def test_admin_approve_a_frozen_account_shows_the_ledgers_refusal(approver):
    account = funded_account(10_000)
    request = ask(account=account)
    services.freeze_account(account=account, reason="Review", by=None)

    done = client_for(approver).post(decide_url(request, "approve"), follow=True)

    assert "frozen or closed" in done.content.decode()
    assert balance_of(account) == 10_000


@pytest.mark.parametrize("role", ["teller", "back office", "auditor"])
@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_admin_decisions_answer_only_approvers(role, decision):
    request = ask()
    client = client_for(staff_member(role))

    page = client.get(decide_url(request, decision))
    posted = client.post(decide_url(request, decision), {"reason": "x"})

    assert (page.status_code, posted.status_code) == (403, 403)
    request.refresh_from_db()
    assert request.status == "pending"


def test_admin_lists_what_waits_first_and_offers_decisions_only_there(approver):
    waiting_old = ask()
    decided = ask()
    services.reject_request(approval=decided, by=approver, reason="No")
    with clock(datetime.now(UTC) - timedelta(hours=30)):
        stale = ask()
    waiting_new = ask()
    client = client_for(approver)

    listed = client.get(reverse("admin:ledger_approvalrequest_changelist"))
    pending = client.get(reverse("admin:ledger_approvalrequest_changelist"), {"state": "pending"})
    expired = client.get(reverse("admin:ledger_approvalrequest_changelist"), {"state": "expired"})

    ids = changelist_ids(listed)
    assert ids[:2] == [waiting_new.pk, waiting_old.pk]
    assert set(ids[2:]) == {decided.pk, stale.pk}
    assert changelist_ids(pending) == [waiting_new.pk, waiting_old.pk]
    assert changelist_ids(expired) == [stale.pk]
    body = listed.content.decode()
    assert body.count(">Approve</a>") == 2 and body.count(">Reject</a>") == 2


def test_admin_transaction_page_names_the_approver(admin_client, approver):
    request = ask()
    txn = services.approve_request(approval=request, by=approver)

    page = admin_client.get(reverse("admin:ledger_transaction_change", args=[txn.pk]))

    assert "Approved by" in page.content.decode()
    assert str(approver) in page.content.decode()


def test_admin_reverse_above_the_limit_makes_a_request(admin_client):
    payer, payee = funded_account(10_000), AccountFactory()
    original = send(payer, payee, 900)

    done = admin_client.post(
        reverse("admin:ledger_transaction_changelist"),
        {
            "action": "reverse_selected",
            ACTION_CHECKBOX_NAME: [str(original.pk)],
            "apply": "1",
            "reason": "Paid twice",
        },
        follow=True,
    )

    assert "above the approval limit" in done.content.decode()
    request = ApprovalRequest.objects.get()
    assert (request.kind, request.reverses, request.amount) == ("reversal", original, 900)
    assert not Transaction.objects.filter(kind="reversal").exists()


# --- finding customers and accounts ----------------------------------------------------------


@pytest.fixture
def ada():
    user = UserFactory(
        email="ada.lovelace@example.org", holder__first_name="Ada", holder__last_name="Lovelace"
    )
    return user, account_for(user, amount=1_000)


@pytest.mark.parametrize("term", ["ada.lovelace@example", "Lovelace", "Ada", "number", "spaced"])
def test_admin_finds_an_account_by_email_name_and_number(admin_client, ada, term):
    _user, account = ada
    # Someone else, named so that no term matches them (a random name or address may hold
    # "Ada": Adams, Adair Street).
    other = funded_account(
        1_000,
        holder__first_name="Grace",
        holder__last_name="Hopper",
        holder__address="1 Navy Yard, Arlington",
    )
    term = {"number": account.number, "spaced": format_account_number(account.number)}.get(
        term, term
    )

    response = admin_client.get(reverse("admin:ledger_account_changelist"), {"q": term})

    ids = changelist_ids(response)
    assert account.pk in ids and other.pk not in ids


@pytest.mark.parametrize("term", ["ada.lovelace", "Lovelace", "number"])
def test_admin_finds_a_customer_by_email_name_and_account_number(admin_client, ada, term):
    user, account = ada
    UserFactory(holder__first_name="Grace", holder__last_name="Hopper")
    term = account.number if term == "number" else term

    response = admin_client.get(reverse("admin:accounts_user_changelist"), {"q": term})

    assert changelist_ids(response) == [user.pk]


def test_admin_finds_entries_by_a_spaced_account_number(admin_client, ada):
    _user, account = ada
    funded_account(500)

    response = admin_client.get(
        reverse("admin:ledger_entry_changelist"), {"q": format_account_number(account.number)}
    )

    assert {e.account_id for e in response.context["cl"].result_list} == {account.pk}


# --- the account page ------------------------------------------------------------------------


def test_admin_account_page_shows_balances_history_and_latest_entries(admin_client):
    account = funded_account(100)
    for _ in range(24):
        services.deposit(account=account, amount=1, initiated_by=None)
    services.freeze_account(account=account, reason="Fraud review", by=None)

    page = admin_client.get(reverse("admin:ledger_account_change", args=[account.pk]))

    body = page.content.decode()
    assert "Available balance" in body and "EUR 1.24" in body
    assert "Fraud review" in body  # the status history inline
    entries = page.context["inline_admin_formsets"][1]
    assert len(list(entries)) == 20  # the latest 20 of 25
    assert b'name="_save"' in page.content  # the nickname, and nothing else, is editable


def test_admin_account_page_saves_a_nickname_with_its_entries_beside_it(admin_client):
    account = funded_account(100)
    entry = Entry.objects.get(account=account)

    response = admin_client.post(
        reverse("admin:ledger_account_change", args=[account.pk]),
        {
            "nickname": "renamed",
            "status_changes-TOTAL_FORMS": "0",
            "status_changes-INITIAL_FORMS": "0",
            "entries-TOTAL_FORMS": "1",
            "entries-INITIAL_FORMS": "1",
            "entries-0-id": str(entry.pk),
            "entries-0-account": str(account.pk),
            "entries-0-amount": "999999",
        },
    )

    assert response.status_code == 302
    account.refresh_from_db()
    entry.refresh_from_db()
    assert (account.nickname, account.balance, entry.amount) == ("renamed", 100, 100)


# --- ledger rows and the audit record: read-only, filterable ---------------------------------


@pytest.mark.parametrize("model", ["entry", "transaction", "auditrecord", "ledgercheckrun"])
def test_admin_ledger_rows_and_records_are_never_changed_or_deleted_even_by_a_superuser(
    admin_client, model
):
    funded_account(100)
    call_command("ledger_check", stdout=StringIO(), stderr=StringIO())
    obj = {
        "entry": Entry,
        "transaction": Transaction,
        "auditrecord": AuditRecord,
        "ledgercheckrun": LedgerCheckRun,
    }[model].objects.first()
    app = "audit" if model == "auditrecord" else "ledger"

    page = admin_client.get(reverse(f"admin:{app}_{model}_change", args=[obj.pk]))
    delete = admin_client.post(reverse(f"admin:{app}_{model}_delete", args=[obj.pk]))
    changelist = admin_client.get(reverse(f"admin:{app}_{model}_changelist"))

    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert delete.status_code == 403
    action_form = changelist.context["action_form"]
    offered = set(dict(action_form.fields["action"].choices)) if action_form else set()
    assert "delete_selected" not in offered
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_admin_entries_filter_by_kind_currency_and_date(admin_client):
    eur = funded_account(1_000)
    gbp = funded_account(1_000, currency="GBP")
    send(eur, AccountFactory(), 100)
    with clock(datetime(2026, 1, 15, tzinfo=UTC)):
        old = AccountFactory()
        services.deposit(account=old, amount=5, initiated_by=None)
    url = reverse("admin:ledger_entry_changelist")

    def entries(**query):
        return admin_client.get(url, query).context["cl"].result_list

    assert {e.transaction.kind for e in entries(transaction__kind__exact="transfer")} == {
        "transfer"
    }
    assert {e.account_id for e in entries(currency="GBP")} >= {gbp.pk}
    assert all(e.currency == "GBP" for e in entries(currency="GBP"))
    dated = entries(
        created_at__gte="2026-01-01 00:00:00+00:00", created_at__lt="2026-02-01 00:00:00+00:00"
    )
    assert {e.transaction.kind for e in dated} == {"deposit"} and len(dated) == 2


def test_admin_transactions_filter_by_kind_currency_and_date(admin_client):
    funded_account(1_000)
    funded_account(1_000, currency="GBP")
    url = reverse("admin:ledger_transaction_changelist")

    by_currency = admin_client.get(url, {"entries__currency": "GBP"}).context["cl"].result_list
    by_kind = admin_client.get(url, {"kind__exact": "transfer"}).context["cl"].result_list
    today = f"{datetime.now(UTC).date()} 00:00:00+00:00"  # as the admin's date filter links
    by_date = admin_client.get(url, {"created_at__gte": today}).context["cl"].result_list

    assert len(by_currency) == 1 and by_currency[0].entries.first().currency == "GBP"
    assert list(by_kind) == []
    assert len(by_date) == 2


def test_admin_audit_record_filters_by_action_and_actor(admin_client, approver):
    request = ask()
    services.reject_request(approval=request, by=approver, reason="No")
    url = reverse("admin:audit_auditrecord_changelist")

    rejected = admin_client.get(url, {"action__exact": "reject"}).context["cl"].result_list
    by_actor = admin_client.get(url, {"q": approver.email}).context["cl"].result_list

    assert [r.action for r in rejected] == ["reject"]
    assert {r.action for r in by_actor} == {"reject"}


# --- the front page --------------------------------------------------------------------------


def test_admin_front_page_is_the_banks(admin_client):
    page = admin_client.get(reverse("admin:index"))

    assert "Northwind Bank · back office" in page.content.decode()
    assert "<title>Back office | Northwind Bank back office</title>" in page.content.decode()


def test_admin_front_page_shows_what_needs_attention(admin_client, approver):
    ask()
    ask()
    decided = ask()
    services.reject_request(approval=decided, by=approver, reason="No")
    services.freeze_account(account=funded_account(10), reason="Review", by=None)

    before = admin_client.get(reverse("admin:index"))
    call_command("ledger_check", stdout=StringIO(), stderr=StringIO())
    after = admin_client.get(reverse("admin:index"))

    attention = before.context["attention"]
    assert (attention["pending_approvals"], attention["frozen_accounts"]) == (2, 1)
    body = before.content.decode()
    assert '<td id="pending-approvals">2</td>' in body
    assert '<td id="frozen-accounts">1</td>' in body
    assert "?state=pending" in body and "?status__exact=frozen" in body
    assert "Never run" in body
    assert "The books balance" in after.content.decode()


def test_ledger_check_keeps_each_runs_outcome(settings):
    funded_account(100)

    call_command("ledger_check", stdout=StringIO(), stderr=StringIO())
    Transaction.objects.create(kind="transfer", created_at=datetime.now(UTC))  # no entries
    with pytest.raises(SystemExit):
        call_command("ledger_check", stdout=StringIO(), stderr=StringIO())

    first, second = LedgerCheckRun.objects.order_by("started_at", "id")
    assert (first.ok, first.problem_count) == (True, 0)
    assert (second.ok, second.problem_count) == (False, 1)
    assert second.finished_at >= second.started_at
    assert second.transactions == first.transactions + 1


def test_admin_front_page_shows_a_failed_ledger_check(admin_client):
    Transaction.objects.create(kind="transfer", created_at=datetime.now(UTC))
    with pytest.raises(SystemExit):
        call_command("ledger_check", stdout=StringIO(), stderr=StringIO())

    page = admin_client.get(reverse("admin:index"))

    assert "FAILED: 1 problem(s)" in page.content.decode()
