"""GET /api/v1/accounts/{id}/statements/ and .../statements/{YYYY-MM}/ in JSON, CSV and PDF,
with every refusal of API.md."""

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader

from conftest import bearer
from ledger.tests.factories import AccountFactory
from statements.canonical import canonical_text, sha256_of
from statements.errors import OpenPeriodError
from statements.models import Statement
from statements.periods import Period
from statements.services import issue_statement
from statements.tests.helpers import at, deposit, opened, reverse, send, withdraw

pytestmark = pytest.mark.django_db


def url(account, period=None) -> str:
    base = f"/api/v1/accounts/{account.pk}/statements/"
    return f"{base}{period}/" if period else base


def current() -> Period:
    return Period.of(timezone.now())


@pytest.fixture
def account(customer):
    """Opened in January 2026, with money moving in January and March."""
    account = opened(at(2026, 1, 10), holder=customer.holder)
    deposit(account, 100_000, at(2026, 1, 11), "Salary")
    withdraw(account, 2_550, at(2026, 1, 20))
    deposit(account, 1_000, at(2026, 3, 3), "Gift")
    return account


def pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


# --- the list ---------------------------------------------------------------------------------


def test_list_gives_every_month_from_the_opening_to_now_newest_first(customer_api, account):
    response = customer_api.get(url(account), {"limit": 100})

    assert response.status_code == 200
    rows = response.json()["results"]
    assert rows[0]["period"] == str(current())
    assert rows[0]["status"] == "open"
    assert rows[-1] == {
        "period": "2026-01",
        "period_start": "2026-01-01",
        "period_end": "2026-01-31",
        "status": "issued",
    }
    assert all(row["status"] == "issued" for row in rows[1:])
    periods = [row["period"] for row in rows]
    assert periods == sorted(periods, reverse=True)
    assert len(periods) == len(set(periods))


def test_list_is_paginated(customer_api, account):
    first = customer_api.get(url(account), {"limit": 2}).json()

    assert len(first["results"]) == 2
    assert first["previous"] is None
    second = customer_api.get(first["next"]).json()
    assert second["results"][0]["period"] < first["results"][1]["period"]


def test_list_writes_nothing(customer_api, account):
    customer_api.get(url(account))

    assert not Statement.objects.exists()


# --- JSON ---------------------------------------------------------------------------------------


def test_a_past_month_is_issued_on_first_request_and_then_served_as_issued(customer_api, account):
    response = customer_api.get(url(account, "2026-01"))

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "issued"
    assert body["account"] == str(account.pk)
    assert (body["period_start"], body["period_end"]) == ("2026-01-01", "2026-01-31")
    assert body["opening_balance"] == 0
    assert (body["total_credits"], body["total_debits"]) == (100_000, 2_550)
    assert body["closing_balance"] == 97_450
    assert body["entry_count"] == 2
    assert [e["amount"] for e in body["entries"]] == [100_000, -2_550]
    stored = Statement.objects.get(account=account, period="2026-01")
    assert body["sha256"] == stored.sha256 == sha256_of(stored.content)
    assert canonical_text(json.loads(stored.content)) == stored.content
    assert customer_api.get(url(account, "2026-01")).json() == body
    assert Statement.objects.count() == 1


def test_a_month_stays_open_for_ten_minutes_after_it_ends(customer_api, account, monkeypatch):
    """A posting timed 23:59:59.999 by the database may commit just after midnight: the month
    is issued only once that cannot happen any more."""
    deposit(account, 500, at(2026, 4, 30, 23, 59, 59, 999_999), "Last instant")
    for moment, status in [
        (at(2026, 5, 1, 0, 9, 59), "open"),
        (at(2026, 5, 1, 0, 10, 0), "issued"),
    ]:
        monkeypatch.setattr("django.utils.timezone.now", lambda moment=moment: moment)
        body = customer_api.get(url(account, "2026-04")).json()
        assert body["status"] == status
        assert body["closing_balance"] == 98_950
        listed = customer_api.get(url(account)).json()["results"]
        assert [row["status"] for row in listed if row["period"] == "2026-04"] == [status]
    assert Statement.objects.filter(period="2026-04").count() == 1
    with pytest.raises(OpenPeriodError):
        issue_statement(account=account, period=Period(2026, 5))


def test_the_current_month_is_open_live_and_not_stored(customer, customer_api):
    account = opened(timezone.now() - timedelta(seconds=1), holder=customer.holder)
    deposit(account, 4_200, timezone.now())

    body = customer_api.get(url(account, str(current()))).json()

    assert body["status"] == "open"
    assert body["sha256"] is None and body["issued_at"] is None
    assert body["closing_balance"] == 4_200
    assert not Statement.objects.exists()


def test_an_issued_statement_does_not_change_when_later_entries_arrive(customer_api, account):
    january = customer_api.get(url(account, "2026-01")).json()
    csv_before = customer_api.get(url(account, "2026-01"), {"format": "csv"}).content
    pdf_before = customer_api.get(url(account, "2026-01"), {"format": "pdf"}).content
    cash_out = account.entries.get(amount=-2_550).transaction

    deposit(account, 999, at(2026, 1, 31, 23, 59))  # a late, backdated posting into January
    reverse(cash_out, timezone.now())  # and a correction of January, today

    assert customer_api.get(url(account, "2026-01")).json() == january
    assert customer_api.get(url(account, "2026-01"), {"format": "csv"}).content == csv_before
    assert customer_api.get(url(account, "2026-01"), {"format": "pdf"}).content == pdf_before
    today = customer_api.get(url(account, str(current()))).json()
    assert today["entries"][-1]["kind"] == "reversal"


def test_a_month_with_no_entries_is_issued_with_the_balance_carried_over(customer_api, account):
    body = customer_api.get(url(account, "2026-02")).json()

    assert body["entries"] == []
    assert body["opening_balance"] == body["closing_balance"] == 97_450


def test_a_statement_costs_the_same_queries_for_5_or_50_entries(customer):
    small = opened(at(2026, 1, 1), holder=customer.holder)
    large = opened(at(2026, 1, 1), holder=customer.holder)
    payee = AccountFactory()
    for i in range(5):
        deposit(small, 10, at(2026, 1, 2, i))
    for i in range(50):
        deposit(large, 10, at(2026, 1, 2, i // 10, i))
        if i % 10 == 0:
            send(large, payee, 1, at(2026, 1, 2, i // 10, i, 30))
    client = bearer(customer)

    def queries(account, period) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(account, period)).status_code == 200
        return len(captured)

    assert queries(small, "2026-01") == queries(large, "2026-01")  # issuing
    assert queries(small, "2026-01") == queries(large, "2026-01")  # served as issued
    assert queries(small, str(current())) == queries(large, str(current()))  # live


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("period", ["2026-13", "2026-1", "26-01", "2026-00", "2026-01-01", "x"])
@pytest.mark.parametrize("fmt", [None, "csv", "pdf"])
def test_a_malformed_period_is_a_400_envelope_in_every_format(customer_api, account, period, fmt):
    response = customer_api.get(url(account, period), {"format": fmt} if fmt else {})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "validation_error"
    assert "period" in response.json()["error"]["details"]


@pytest.mark.parametrize("fmt", [None, "csv", "pdf"])
def test_a_month_before_the_opening_or_after_now_is_a_404(customer_api, account, fmt):
    params = {"format": fmt} if fmt else {}
    for period in ("2025-12", "0000-01", str(current().next()), "9999-12"):
        response = customer_api.get(url(account, period), params)

        assert response.status_code == 404, period
        assert response.json()["error"]["code"] == "not_found"
    assert not Statement.objects.exists()


@pytest.mark.parametrize("fmt", [None, "csv", "pdf"])
def test_another_customers_account_is_a_404_in_every_format(account, fmt):
    stranger = bearer(AccountFactory().holder.user)
    params = {"format": fmt} if fmt else {}

    for path in (url(account), url(account, "2026-01"), url(account, str(current()))):
        response = stranger.get(path, params)

        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/json"
        assert response.json()["error"]["code"] == "not_found"
    assert not Statement.objects.exists()


@pytest.mark.parametrize("fmt", ["xml", "", "CSV"])  # "": found by bin/fuzz
def test_an_unknown_format_is_a_400(customer_api, account, fmt):
    response = customer_api.get(url(account, "2026-01"), {"format": fmt})

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"format": ["Use one of: json, csv, pdf."]}


def test_the_list_has_no_csv_or_pdf(customer_api, account):
    response = customer_api.get(url(account), {"format": "csv"})

    assert response.status_code == 400
    assert "format" in response.json()["error"]["details"]


def test_without_a_login_it_is_a_401(api, account):
    for path in (url(account), url(account, "2026-01")):
        response = api.get(path, {"format": "pdf"})

        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"


def test_statements_are_read_only_405(customer_api, account):
    for path in (url(account), url(account, "2026-01")):
        response = customer_api.post(path, {})

        assert response.status_code == 405
        assert response.json()["error"]["code"] == "method_not_allowed"


# --- CSV ------------------------------------------------------------------------------------


def test_csv_has_a_header_and_a_row_per_entry_in_decimal_figures(customer_api, account):
    response = customer_api.get(url(account, "2026-01"), {"format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="statement-{account.number}-2026-01.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert [(r["kind"], Decimal(r["amount"]), Decimal(r["balance_after"])) for r in rows] == [
        ("deposit", Decimal("1000.00"), Decimal("1000.00")),
        ("withdrawal", Decimal("-25.50"), Decimal("974.50")),
    ]
    assert rows[0]["description"] == "Salary"
    assert rows[0]["currency"] == "EUR"
    assert rows[0]["counterparty"] == "Northwind Bank"


def test_csv_neutralises_spreadsheet_formulas_and_keeps_unicode(customer):
    account = opened(at(2026, 1, 1), holder=customer.holder)
    payer = AccountFactory(holder__first_name="Zoë", holder__last_name="Ørsted")
    deposit(payer, 1_000, at(2026, 1, 2))
    send(payer, account, 100, at(2026, 1, 3), '=HYPERLINK("http://evil")')

    response = bearer(customer).get(url(account, "2026-01"), {"format": "csv"})

    (row,) = csv.DictReader(io.StringIO(response.content.decode("utf-8")))
    assert row["description"] == '\'=HYPERLINK("http://evil")'
    assert row["counterparty"] == "Zoë Ørsted"


# --- PDF ------------------------------------------------------------------------------------


def test_pdf_reads_back_with_the_closing_balance_the_hash_and_the_holder(customer_api, account):
    response = customer_api.get(url(account, "2026-01"), {"format": "pdf"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].endswith(f'statement-{account.number}-2026-01.pdf"')
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    sha = Statement.objects.get(account=account, period="2026-01").sha256
    assert "Northwind Bank" in text
    assert "Closing balance" in text and "EUR 974.50" in text
    assert sha in text.replace("\n", "")
    assert account.holder.full_name in text
    assert f"******{account.number[-4:]}" in text
    assert account.number not in text
    assert "2026-01-01 to 2026-01-31" in text
    assert "Page 1 of 1" in text


def test_pdf_of_a_long_month_runs_over_pages_with_page_numbers(customer):
    account = opened(at(2026, 1, 1), holder=customer.holder)
    for i in range(130):
        deposit(account, 100 + i, at(2026, 1, 2 + i // 24, i % 24), f"Payment {i}")

    body = bearer(customer).get(url(account, "2026-01"), {"format": "pdf"}).content

    reader = PdfReader(io.BytesIO(body))
    pages = len(reader.pages)
    assert pages >= 3
    text = pdf_text(body)
    assert f"Page {pages} of {pages}" in text
    assert "Payment 0" in text and "Payment 129" in text
    assert "EUR 1" in text


def test_pdf_of_the_open_month_says_it_is_open(customer, customer_api):
    account = opened(timezone.now() - timedelta(seconds=1), holder=customer.holder)
    deposit(account, 4_200, timezone.now(), "Café ☕ naïve")

    body = customer_api.get(url(account, str(current())), {"format": "pdf"}).content

    text = pdf_text(body)
    assert "open statement" in text
    assert "EUR 42.00" in text
    assert "Caf" in text  # Latin-1 text prints; what the core font lacks prints as "?"
