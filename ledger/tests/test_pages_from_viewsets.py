"""The account page, the transfers list and a transfer are the API's viewsets mounted a second
time with an HTML renderer (core/viewset_pages.py): one view, one permission check, one
pagination; refusals are the portal's pages."""

import base64
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from rest_framework.throttling import UserRateThrottle

from accounts.tests.factories import UserFactory
from conftest import signed_in
from core.viewset_pages import PageMixin
from ledger.numbers import format_account_number
from ledger.tests.factories import account_for, funded_account, send
from ledger.views import AccountViewSet, TransferViewSet

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script>&<b>'


@pytest.fixture
def checking(customer):
    return account_for(customer, amount=100_000, nickname="Everyday")


@pytest.fixture
def stranger():
    """Another customer with an account, and a transfer of theirs to a third customer."""
    account = funded_account(50_000)
    txn = send(account, funded_account(1), 1_234, description="Stranger's rent")
    return account, txn


def templates_of(response) -> list[str]:
    return [t.name for t in response.templates if t.name]


def is_404_page(response) -> bool:
    return response.status_code == 404 and "errors/error.html" in templates_of(response)


def is_400_page(response) -> bool:
    return response.status_code == 400 and "errors/error.html" in templates_of(response)


# --- one view: the page and the API resolve to the same viewset ---------------------------


@pytest.mark.parametrize(
    ("page", "api", "viewset", "action"),
    [
        ("/accounts/{a}/", "/api/v1/accounts/{a}/transactions/", AccountViewSet, "transactions"),
        ("/transfers/", "/api/v1/transfers/", TransferViewSet, "list"),
        ("/transfers/{t}/", "/api/v1/transfers/{t}/", TransferViewSet, "retrieve"),
    ],
)
def test_page_and_api_share_one_viewset(page, api, viewset, action):
    ids = {"a": "0b7b6f7e-8f8e-4d52-9b0a-3c4f3f6a1d10", "t": "0b7b6f7e-8f8e-4d52-9b0a-3c4f3f6a1d11"}

    on_page, on_api = resolve(page.format(**ids)), resolve(api.format(**ids))

    assert on_page.func.cls is on_api.func.cls is viewset
    assert issubclass(viewset, PageMixin)
    assert on_page.func.actions["get"] == action
    assert set(on_page.func.actions) <= {"get", "head"}  # only what the page mounts
    assert on_api.func.actions["get"] == action


def test_the_account_page_paginates_as_the_api_does():
    """The action's own pagination class applies on the page, as the router applies it."""
    page = resolve("/accounts/0b7b6f7e-8f8e-4d52-9b0a-3c4f3f6a1d10/").func
    api = resolve("/api/v1/accounts/0b7b6f7e-8f8e-4d52-9b0a-3c4f3f6a1d10/transactions/").func

    assert page.initkwargs["pagination_class"] is api.initkwargs["pagination_class"]


def test_pages_are_not_in_the_api_schema(api):
    paths = api.get("/api/v1/schema/?format=json").json()["paths"]

    assert all(path.startswith("/api/v1/") for path in paths)


def test_the_account_page_looks_the_account_up_once(browser, checking):
    with CaptureQueriesContext(connection) as queries:
        response = browser.get(f"/accounts/{checking.pk}/")

    assert response.status_code == 200
    account_lookups = [q["sql"] for q in queries if re.search(r'FROM "ledger_account"', q["sql"])]
    # One lookup (the viewset's get_object, its permission check) and the chart's opening
    # balances; page_context() reuses the looked-up account.
    assert len([sql for sql in account_lookups if "INNER JOIN" in sql]) == 1


# --- the same refusals, as the portal's pages ----------------------------------------------


def test_another_customers_account_page_is_the_404_page(browser, stranger):
    account, _ = stranger

    response = browser.get(f"/accounts/{account.pk}/")

    assert is_404_page(response)
    assert account.number.encode() not in response.content


def test_another_customers_transfer_page_is_the_404_page(browser, stranger):
    _, txn = stranger

    response = browser.get(f"/transfers/{txn.pk}/")

    assert is_404_page(response)
    assert b"Stranger's rent" not in response.content


def test_an_unknown_transfer_is_the_404_page(browser):
    assert is_404_page(browser.get("/transfers/0b7b6f7e-8f8e-4d52-9b0a-3c4f3f6a1d11/"))


@pytest.mark.parametrize("path", ["/accounts/{a}/", "/transfers/", "/transfers/{t}/"])
def test_anonymous_visitors_are_sent_to_log_in(client, checking, path):
    txn = send(checking, funded_account(1), 100)
    url = path.format(a=checking.pk, t=txn.pk)

    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"/login/?next={url}"


@pytest.mark.parametrize(
    "query",
    [
        "cursor=garbage",
        "cursor=" + base64.b64encode(b"o=1&r=1&p=2026").decode(),
        "limit=lots",
        "limit=0",
    ],
)
def test_a_bad_cursor_or_limit_on_the_account_page_is_the_400_page(browser, checking, query):
    response = browser.get(f"/accounts/{checking.pk}/?{query}")

    assert is_400_page(response)


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("since=yesterday", "since", "Use a date"),
        ("until=2026-02-30", "until", "Use a date"),
        ("since=2026-03-05&until=2026-03-01", "until", "Must be after since"),
    ],
)
def test_bad_dates_are_a_400_with_the_error_beside_the_field(
    browser, checking, query, field, message
):
    response = browser.get(f"/accounts/{checking.pk}/?{query}")

    assert response.status_code == 400
    assert "ledger/account_detail.html" in templates_of(response)
    html = response.content.decode()
    assert re.search(rf'id="id_{field}_error">.*?{message}', html, re.S)
    assert format_account_number(checking.number) in html


def test_a_bad_cursor_on_the_transfers_page_is_the_400_page(browser, checking):
    assert is_400_page(browser.get("/transfers/?cursor=garbage"))


def test_a_page_answers_another_verb_with_the_405_page(browser, checking):
    response = browser.post(f"/accounts/{checking.pk}/")

    assert response.status_code == 405
    assert "errors/error.html" in templates_of(response)
    assert response["Allow"].startswith("GET")


def test_too_many_requests_is_the_429_page(browser, checking, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "rate", "2/min", raising=False)
    for _ in range(2):
        assert browser.get("/transfers/").status_code == 200

    response = browser.get("/transfers/")

    assert response.status_code == 429
    assert "errors/error.html" in templates_of(response)
    assert int(response["Retry-After"]) > 0


@pytest.mark.parametrize("accept", ["application/json", "text/csv"])
def test_a_page_is_html_whatever_the_client_asks_for(browser, checking, accept):
    response = browser.get(f"/accounts/{checking.pk}/?format=json", HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


# --- the pages ------------------------------------------------------------------------------


def test_the_account_page_links_pages_of_history_that_work(browser, customer):
    account = account_for(customer, amount=10_000)
    for n in range(30):
        send(account, funded_account(1), 10 + n)

    first = browser.get(f"/accounts/{account.pk}/")
    older_link = re.search(r'href="([^"]+)" rel="next"', first.content.decode()).group(1)
    older = browser.get(older_link.replace("&amp;", "&"))
    newer_link = re.search(r'href="([^"]+)" rel="prev"', older.content.decode()).group(1)
    newer = browser.get(newer_link.replace("&amp;", "&"))

    first_ids = [row["id"] for row in first.context["results"]]
    older_ids = [row["id"] for row in older.context["results"]]
    assert len(first_ids) == 25
    assert len(older_ids) == 6  # 5 transfers and the deposit
    assert not set(first_ids) & set(older_ids)
    assert [row["id"] for row in newer.context["results"]] == first_ids


def test_the_transfers_page_shows_only_your_transfers(browser, customer, checking, stranger):
    payee = funded_account(1)
    mine = send(checking, payee, 2_500, description="Concert tickets")
    paid_in = send(funded_account(9_000), checking, 700, description="Lunch money")

    response = browser.get("/transfers/")

    html = response.content.decode()
    assert response.status_code == 200
    assert {row["id"] for row in response.context["results"]} == {str(mine.pk), str(paid_in.pk)}
    assert "Concert tickets" in html
    assert "\u2212EUR 25.00" in html
    assert "Lunch money" in html
    assert "+EUR 7.00" in html
    assert f'href="/transfers/{mine.pk}/"' in html
    assert "Stranger's rent" not in html
    assert format_account_number(stranger[0].number) not in html


def test_the_transfers_page_paginates_with_cursors(browser, checking):
    payee = funded_account(1)
    for n in range(27):
        send(checking, payee, 100 + n)

    first = browser.get("/transfers/")
    older = browser.get(first.context["next"])

    assert len(first.context["results"]) == 25
    assert len(older.context["results"]) == 2
    assert older.context["previous"]
    assert b'rel="next"' in first.content


def test_the_transfers_page_tells_a_new_customer_there_are_none(browser):
    response = browser.get("/transfers/")

    assert response.status_code == 200
    assert b"No transfers yet" in response.content


def test_the_transfer_page_shows_what_the_api_gives(browser, customer, checking):
    payee = funded_account(1)
    txn = send(checking, payee, 12_550, description="Concert")

    response = browser.get(f"/transfers/{txn.pk}/")
    api = browser.get(f"/api/v1/transfers/{txn.pk}/").json()

    html = response.content.decode()
    assert response.status_code == 200
    assert {k: response.context[k] for k in api} == api
    assert "Money sent" in html
    assert "\u2212EUR 125.50" in html
    assert payee.holder.full_name in html
    assert format_account_number(payee.number) in html
    assert f'href="/accounts/{checking.pk}/"' in html


def test_a_received_transfer_page_names_the_sender(browser, checking):
    sender = funded_account(50_000)
    txn = send(sender, checking, 4_000)

    html = browser.get(f"/transfers/{txn.pk}/").content.decode()

    assert "Money received" in html
    assert "+EUR 40.00" in html
    assert sender.holder.full_name in html


def test_descriptions_are_escaped_on_every_page(browser, customer, checking):
    txn = send(checking, funded_account(1), 100, description=HOSTILE)

    for path in (
        f"/accounts/{checking.pk}/",
        "/transfers/",
        f"/transfers/{txn.pk}/",
        "/dashboard/",
    ):
        html = browser.get(path).content.decode()
        assert HOSTILE not in html, path
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&lt;b&gt;" in html, path


def test_nicknames_are_escaped_on_the_account_page(browser, customer):
    account = account_for(customer, nickname=HOSTILE)

    html = browser.get(f"/accounts/{account.pk}/").content.decode()

    assert HOSTILE not in html
    assert "&lt;script&gt;" in html


def test_the_dashboard_and_the_nav_link_the_transfers_page(browser, checking):
    html = browser.get("/dashboard/").content.decode()

    assert html.count('href="/transfers/"') == 2  # the nav and the recent activity


def test_history_rows_of_transfers_link_their_transfer_page(browser, customer, checking):
    txn = send(checking, funded_account(1), 100, description="Books")

    html = browser.get(f"/accounts/{checking.pk}/").content.decode()

    assert f'<a href="/transfers/{txn.pk}/">Books</a>' in html


def test_a_customer_cannot_reach_the_staff_actions_through_a_page(browser, checking):
    """Only the actions mounted as pages exist under page URLs."""
    response = browser.get(f"/accounts/{checking.pk}/deposits/")

    assert response.status_code == 404


def test_another_users_session_sees_only_their_own(checking):
    other = signed_in(UserFactory())

    assert is_404_page(other.get(f"/accounts/{checking.pk}/"))
    assert other.get("/transfers/").context["results"] == []
