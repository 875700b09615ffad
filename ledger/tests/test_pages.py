"""The portal's pages for accounts, history and transfers: the same selectors and services as
the API, rendered as HTML; refusals beside the field they concern."""

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from conftest import signed_in
from ledger import services
from ledger.idempotency import KEY_RULE
from ledger.models import Account, IdempotencyKey, Transaction
from ledger.numbers import check_digits, format_account_number
from ledger.tests.factories import account_for, balance_of, clock, funded_account, ledger_rows, send

pytestmark = pytest.mark.django_db


@pytest.fixture
def checking(customer) -> Account:
    return account_for(customer, amount=100_000, nickname="Everyday")


@pytest.fixture
def payee() -> Account:
    return funded_account(500)


def field_error(response, field: str) -> str:
    match = re.search(
        rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', response.content.decode(), re.S
    )
    return re.sub(r"<[^>]+>", " ", match.group(1)).strip() if match else ""


def assert_csp_clean(response) -> None:
    html = response.content.decode()
    assert "style=" not in html
    assert "<style" not in html
    assert "<script" not in html


def transfer_form(source: Account, number: str, amount: str, description: str = "") -> dict:
    return {
        "from_account": str(source.pk),
        "to_account_number": number,
        "amount": amount,
        "description": description,
    }


def confirmation_fields(response) -> dict:
    """The hidden fields of the confirmation page, as the browser would post them back."""
    html = response.content.decode()
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))
    fields.pop("csrfmiddlewaretoken", None)
    return {**fields, "action": "send"}


# --- dashboard ------------------------------------------------------------------------------


def test_dashboard_lists_every_account_with_its_balance_and_a_chart(browser, customer, checking):
    account_for(customer, currency="GBP", nickname="London")

    response = browser.get("/dashboard/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "EUR 1,000.00" in html
    assert "GBP 0.00" in html
    assert format_account_number(checking.number) in html
    assert html.count('<svg class="chart"') == 1  # the empty GBP account says so instead
    assert "chart starts with the first payment" in html
    assert 'class="chart-line" d="M0 ' in html
    assert_csp_clean(response)


def test_dashboard_shows_recent_activity_across_accounts_with_counterparties(
    browser, customer, checking, payee
):
    savings = account_for(customer, nickname="Rainy day", type="savings")
    send(checking, savings, 2_500, initiated_by=customer)
    send(checking, payee, 1_250, initiated_by=customer, description="Pizza")

    html = browser.get("/dashboard/").content.decode()

    assert "Pizza" in html
    assert f"To {payee.holder.full_name}" in html
    assert "\u2212EUR 12.50" in html
    assert "+EUR 25.00" in html
    assert "Rainy day" in html


def test_dashboard_tells_a_new_customer_to_open_an_account(browser):
    response = browser.get("/dashboard/")

    assert b"You have no accounts yet" in response.content
    assert b'href="/accounts/new/"' in response.content


def test_dashboard_queries_stay_flat_as_accounts_and_entries_grow(browser, customer):
    account_for(customer, amount=1_000)
    with CaptureQueriesContext(connection) as few:
        browser.get("/dashboard/")
    for currency in ("EUR", "GBP", "USD", "CHF"):
        account = account_for(customer, amount=5_000, currency=currency)
        for _ in range(3):
            services.withdraw(account=account, amount=100, initiated_by=None)

    with CaptureQueriesContext(connection) as many:
        browser.get("/dashboard/")

    assert len(many) == len(few)


def test_chart_follows_balance_after_over_six_months(browser, customer):
    long_ago = timezone.now() - timedelta(days=150)
    with clock(long_ago):
        account = services.open_account(owner=customer, type="checking", currency="EUR")
        services.deposit(account=account, amount=10_000, initiated_by=None)
    with clock(long_ago + timedelta(days=60)):
        services.withdraw(account=account, amount=4_000, initiated_by=None)

    chart = browser.get("/dashboard/").context["accounts"][0][1]

    assert (chart.low, chart.high, chart.closing) == (0, 10_000, 6_000)
    assert chart.line.count("V") == 2  # up once, down once
    assert [line.label for line in chart.gridlines] == ["EUR 150", "EUR 75", "EUR 0"]
    assert len(chart.ticks) >= 4  # month labels


def test_a_new_accounts_chart_starts_when_it_was_opened(browser, checking):
    chart = browser.get(f"/accounts/{checking.pk}/").context["chart"]

    assert chart.start == checking.created_at
    assert chart.line.startswith("M0 ")


# --- opening an account ---------------------------------------------------------------------


def test_open_account_opens_it_and_shows_it(browser, customer):
    response = browser.post(
        "/accounts/new/", {"type": "savings", "currency": "GBP", "nickname": "Holiday"}
    )

    account = Account.objects.get(holder__user=customer)
    assert response.status_code == 302
    assert response.url == f"/accounts/{account.pk}/"
    assert (account.type, account.currency, account.nickname, account.balance) == (
        "savings",
        "GBP",
        "Holiday",
        0,
    )
    page = browser.get(response.url)
    assert b"No money has moved yet" in page.content


def test_open_account_refuses_an_unknown_currency_beside_the_field(browser, customer):
    response = browser.post("/accounts/new/", {"type": "checking", "currency": "XXX"})

    assert "Select a valid choice" in field_error(response, "currency")
    assert not Account.objects.filter(holder__user=customer).exists()


# --- one account and its history -----------------------------------------------------------


def test_account_page_shows_details_and_history_with_counterparties(
    browser, customer, checking, payee
):
    send(checking, payee, 3_000, initiated_by=customer, description="Rent")

    response = browser.get(f"/accounts/{checking.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert format_account_number(checking.number) in html
    assert "EUR 970.00" in html
    assert "Rent" in html
    assert f"To {payee.holder.full_name}" in html
    assert format_account_number(payee.number) in html
    assert "From Northwind Bank" in html  # the deposit that funded it
    assert_csp_clean(response)


def test_another_customers_account_page_is_the_404_page(browser, payee):
    response = browser.get(f"/accounts/{payee.pk}/")

    assert response.status_code == 404
    assert "errors/error.html" in [t.name for t in response.templates]
    assert payee.number.encode() not in response.content


def test_history_filters_by_since_and_until(browser, customer):
    account = account_for(customer)
    for day, amount in ((1, 100), (5, 200), (9, 300)):
        with clock(datetime(2026, 3, day, 12, tzinfo=UTC)):
            services.deposit(account=account, amount=amount, initiated_by=None)

    response = browser.get(f"/accounts/{account.pk}/?since=2026-03-05&until=2026-03-05")

    rows = response.context["results"]  # the history API's rows
    assert [row["amount"] for row in rows] == [200]
    assert b"Clear the dates" in response.content


def test_history_shows_a_bad_date_beside_its_field(browser, checking):
    response = browser.get(f"/accounts/{checking.pk}/?since=yesterday")

    assert response.status_code == 400  # the page itself, the refusal beside the field
    assert "Use a date" in field_error(response, "since")
    assert response.context["results"] == []


def test_history_is_paginated_newest_first_with_stable_cursors(browser, customer):
    account = account_for(customer, amount=10_000)
    for _ in range(30):
        services.withdraw(account=account, amount=10, initiated_by=None)

    first = browser.get(f"/accounts/{account.pk}/")
    older = browser.get(first.context["next"])

    assert len(first.context["results"]) == 25
    assert first.context["previous"] is None
    assert len(older.context["results"]) == 6  # 5 withdrawals and the deposit
    assert older.context["results"][-1]["amount"] == 10_000
    assert older.context["previous"]


def test_history_with_a_forged_cursor_is_the_400_page(browser, checking):
    response = browser.get(f"/accounts/{checking.pk}/?cursor=garbage")

    assert response.status_code == 400
    assert "errors/error.html" in [t.name for t in response.templates]


# --- transfers ------------------------------------------------------------------------------


def test_transfer_form_lists_only_your_accounts(browser, checking, payee):
    response = browser.get("/transfers/new/")

    assert response.status_code == 200
    choices = [value for value, _ in response.context["form"].fields["from_account"].choices]
    assert choices == [str(checking.pk)]
    assert_csp_clean(response)


def test_transfer_form_without_accounts_says_to_open_one(browser):
    response = browser.get("/transfers/new/")

    assert b"Open an account first" in response.content


def test_transfer_step_one_confirms_the_payee_by_name_and_posts_nothing(browser, checking, payee):
    before = ledger_rows()

    response = browser.post(
        "/transfers/new/", transfer_form(checking, payee.number, "125.50", "Concert")
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "ledger/transfer_confirm.html" in [t.name for t in response.templates]
    assert payee.holder.full_name in html
    assert "EUR 125.50" in html
    assert "Concert" in html
    assert 'name="idempotency_key"' in html
    assert ledger_rows() == before


@pytest.mark.parametrize(
    ("number", "amount", "field", "message"),
    [
        ("1234567890", "10", "to_account_number", "not a valid account number"),
        ("10000000" + check_digits("10000000"), "10", "to_account_number", "No account has"),
        (None, "10.005", "amount", "EUR amounts have at most 2 decimal places."),
        (None, "0", "amount", "greater than zero"),
        (None, "ten", "amount", "in figures"),
        (None, "1000.01", "amount", "does not have enough money"),
    ],
)
def test_transfer_form_shows_each_refusal_beside_its_field(
    browser, checking, payee, number, amount, field, message
):
    before = ledger_rows()

    response = browser.post(
        "/transfers/new/", transfer_form(checking, number or payee.number, amount)
    )

    assert response.status_code == 200
    assert message in field_error(response, field)
    assert ledger_rows() == before


HOSTILE_AMOUNTS = [
    ("1e999999", "in figures"),  # once a 500 (a million-digit integer)
    ("1e999997", "in figures"),  # once 40 s of CPU
    ("1E999999", "in figures"),
    ("1e5", "in figures"),
    ("NaN", "in figures"),
    ("sNaN", "in figures"),
    ("Infinity", "in figures"),
    ("-Infinity", "in figures"),
    ("+12", "in figures"),
    ("-12", "greater than zero"),
    ("1.2345", "EUR amounts have at most 2 decimal places."),
    ("1" * 40, "at most 32 characters"),
    ("9" * 100_000, "at most 32 characters"),
    ("10000000000000", "too large"),  # MAX_AMOUNT cents
    ("1 200", "without spaces"),
    ("12,50", "without commas"),
    ("\uff11\uff12", "in figures"),
    ("12\x00", "Null characters are not allowed."),
]


def short(value) -> str:
    text = repr(value)
    return text if len(text) <= 30 else f"{text[:12]}...({len(value)} chars)"


@pytest.mark.parametrize(("amount", "message"), HOSTILE_AMOUNTS, ids=short)
def test_transfer_form_refuses_any_other_amount_notation_at_once(
    browser, checking, payee, amount, message
):
    before = ledger_rows()
    started = time.perf_counter()

    response = browser.post("/transfers/new/", transfer_form(checking, payee.number, amount))

    assert time.perf_counter() - started < 2  # the refusal is immediate, not a busy worker
    assert response.status_code == 200
    assert "ledger/transfer_form.html" in [t.name for t in response.templates]
    assert message in field_error(response, "amount")
    assert ledger_rows() == before


@pytest.mark.parametrize("amount", [" 12.50", "12.50 ", "\t12.50\n"], ids=repr)
def test_transfer_form_takes_an_amount_pasted_with_spaces_around_it(
    browser, checking, payee, amount
):
    response = browser.post("/transfers/new/", transfer_form(checking, payee.number, amount))

    assert "ledger/transfer_confirm.html" in [t.name for t in response.templates]
    assert "12.50" in response.content.decode()


@pytest.mark.parametrize(("amount", "message"), HOSTILE_AMOUNTS[:6], ids=short)
def test_transfer_confirmation_with_an_edited_amount_goes_back_to_the_form(
    browser, checking, payee, amount, message
):
    confirm = browser.post("/transfers/new/", transfer_form(checking, payee.number, "10"))

    response = browser.post(
        "/transfers/confirm/", {**confirmation_fields(confirm), "amount": amount}
    )

    assert response.status_code == 200
    assert message in field_error(response, "amount")
    assert not Transaction.objects.filter(kind="transfer").exists()


def test_transfer_form_asks_the_browser_for_decimal_text_of_bounded_length(browser, checking):
    response = browser.get("/transfers/new/")

    field = re.search(r'<input[^>]*name="amount"[^>]*>', response.content.decode()).group(0)
    assert 'inputmode="decimal"' in field
    assert 'maxlength="32"' in field


def test_transfer_form_reads_the_amount_in_the_source_accounts_currency(browser, customer, payee):
    yen = account_for(customer, currency="JPY", amount=5_000)
    yen_payee = funded_account(1, currency="JPY")

    decimals = browser.post("/transfers/new/", transfer_form(yen, yen_payee.number, "12.50"))
    whole = browser.post("/transfers/new/", transfer_form(yen, yen_payee.number, "1250"))

    assert "JPY amounts have no decimal places." in field_error(decimals, "amount")
    assert whole.context["draft"].amount == 1250


def test_transfer_form_refuses_sending_to_the_same_account_beside_the_payee(browser, checking):
    response = browser.post("/transfers/new/", transfer_form(checking, checking.number, "1"))

    assert "to itself" in field_error(response, "to_account_number")


def test_transfer_form_refuses_another_currency_beside_the_payee(browser, checking):
    pounds = funded_account(100, currency="GBP")

    response = browser.post("/transfers/new/", transfer_form(checking, pounds.number, "1"))

    assert "another currency" in field_error(response, "to_account_number")


def test_transfer_form_refuses_someone_elses_account_as_source(browser, checking, payee):
    response = browser.post("/transfers/new/", transfer_form(payee, checking.number, "1"))

    assert "Select a valid choice" in field_error(response, "from_account")


def test_confirming_posts_the_transfer_and_shows_the_result(browser, customer, checking, payee):
    confirm = browser.post(
        "/transfers/new/", transfer_form(checking, payee.number, "125.50", "Concert")
    )

    response = browser.post("/transfers/confirm/", confirmation_fields(confirm))

    txn = Transaction.objects.get(kind="transfer")
    assert response.status_code == 302
    assert response.url == f"/transfers/{txn.pk}/"
    assert balance_of(checking) == 100_000 - 12_550
    assert balance_of(payee) == 500 + 12_550
    result = browser.get(response.url)
    assert b"Money sent" in result.content
    assert payee.holder.full_name.encode() in result.content
    assert b"Sent EUR 125.50 to" in result.content


def test_a_double_submitted_confirmation_posts_once(browser, checking, payee):
    confirm = browser.post("/transfers/new/", transfer_form(checking, payee.number, "10"))
    fields = confirmation_fields(confirm)

    first = browser.post("/transfers/confirm/", fields)
    second = browser.post("/transfers/confirm/", fields)

    assert Transaction.objects.filter(kind="transfer").count() == 1
    assert second.status_code == 302
    assert second.url == first.url
    assert balance_of(payee) == 500 + 1_000
    assert b"It was not sent a second time" in browser.get(second.url).content


def test_the_page_stores_the_same_response_as_the_api(browser, customer, checking, payee):
    confirm = browser.post("/transfers/new/", transfer_form(checking, payee.number, "10"))
    browser.post("/transfers/confirm/", confirmation_fields(confirm))

    stored = IdempotencyKey.objects.get(scope=f"user:{customer.pk}")

    assert stored.response_status == 201
    assert stored.response_body["direction"] == "sent"
    assert stored.response_body["amount"] == 1_000
    assert stored.response_body["to_account_number"] == payee.number


def test_a_confirmation_key_reused_for_another_transfer_is_refused(browser, checking, payee):
    confirm = browser.post("/transfers/new/", transfer_form(checking, payee.number, "10"))
    fields = confirmation_fields(confirm)
    browser.post("/transfers/confirm/", fields)

    response = browser.post("/transfers/confirm/", {**fields, "amount": "11"})

    assert response.status_code == 200
    assert b"already used for a different transfer" in response.content
    assert Transaction.objects.filter(kind="transfer").count() == 1


@pytest.mark.parametrize(
    "key", ["", "k" * 256, "a\x00b", "tab\there", "line\nbreak", None], ids=short
)
def test_a_confirmation_with_a_bad_key_is_refused_as_the_api_refuses_it(
    browser, checking, payee, key
):
    confirm = browser.post("/transfers/new/", transfer_form(checking, payee.number, "10"))
    fields = confirmation_fields(confirm)
    if key is None:
        del fields["idempotency_key"]
    else:
        fields["idempotency_key"] = key
    before = ledger_rows()

    response = browser.post("/transfers/confirm/", fields)

    assert response.status_code == 400  # the API's validation_error status
    assert KEY_RULE in response.content.decode()
    assert ledger_rows() == before
    assert not IdempotencyKey.objects.exists()


def test_a_confirmation_key_of_255_printable_characters_is_taken(browser, checking, payee):
    confirm = browser.post("/transfers/new/", transfer_form(checking, payee.number, "10"))

    response = browser.post(
        "/transfers/confirm/", {**confirmation_fields(confirm), "idempotency_key": "k" * 255}
    )

    assert response.status_code == 302
    assert IdempotencyKey.objects.get().key == "k" * 255


def test_changing_the_details_returns_to_the_form_with_the_values(browser, checking, payee):
    confirm = browser.post("/transfers/new/", transfer_form(checking, payee.number, "42.10"))

    response = browser.post(
        "/transfers/confirm/", {**confirmation_fields(confirm), "action": "edit"}
    )

    assert "ledger/transfer_form.html" in [t.name for t in response.templates]
    assert b'value="42.10"' in response.content
    assert not Transaction.objects.filter(kind="transfer").exists()


def test_a_refusal_at_confirmation_is_shown_beside_the_field(browser, customer, checking, payee):
    confirm = browser.post("/transfers/new/", transfer_form(checking, payee.number, "900"))
    services.withdraw(account=checking, amount=50_000, initiated_by=None)  # meanwhile
    before = ledger_rows()

    response = browser.post("/transfers/confirm/", confirmation_fields(confirm))

    assert response.status_code == 200
    assert "does not have enough money" in field_error(response, "amount")
    assert ledger_rows() == before
    assert not IdempotencyKey.objects.exists()  # a refusal stores nothing: a retry runs again


def test_the_confirmation_step_requires_a_post(browser):
    assert browser.get("/transfers/confirm/").status_code == 405


def test_a_transfer_result_is_visible_to_both_sides_and_nobody_else(customer, checking, payee):
    txn = send(checking, payee, 700, initiated_by=customer)
    stranger = signed_in(UserFactory())

    sent = signed_in(customer).get(f"/transfers/{txn.pk}/")
    received = signed_in(payee.holder.user).get(f"/transfers/{txn.pk}/")
    hidden = stranger.get(f"/transfers/{txn.pk}/")

    assert b"Money sent" in sent.content
    assert b"Money received" in received.content
    assert hidden.status_code == 404


def test_a_frozen_source_account_is_refused_above_the_form(browser, checking, payee):
    services.freeze_account(account=checking, reason="test", by=None)

    response = browser.post("/transfers/new/", transfer_form(checking, payee.number, "1"))

    assert b"The account is frozen or closed." in response.content
    assert response.context["form"].non_field_errors()


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ 123456789|money:'EUR' }}", "EUR 1,234,567.89"),
        ("{{ 1250|money:'JPY' }}", "JPY 1,250"),
        ("{{ -1205|signed_money:'GBP' }}", "\u2212GBP 12.05"),
        ("{{ 1205|signed_money:'GBP' }}", "+GBP 12.05"),
        ("{{ 12550|major:'EUR' }}", "125.50"),
        ("{{ '1234567890'|account_number }}", "1234 5678 90"),
    ],
)
def test_money_filters_format_with_the_currencys_exponent(template, expected):
    assert Template("{% load bank %}" + template).render(Context()) == expected
