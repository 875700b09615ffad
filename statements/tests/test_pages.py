"""The statements pages: the statements viewset mounted again with the HTML renderer."""

import pytest
from django.utils import timezone

from conftest import signed_in
from statements.models import Statement
from statements.periods import Period
from statements.tests.helpers import at, deposit, opened, withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(customer):
    account = opened(at(2026, 1, 10), holder=customer.holder, nickname="Everyday")
    deposit(account, 100_000, at(2026, 1, 11), "Salary")
    withdraw(account, 2_550, at(2026, 1, 20))
    return account


def test_the_account_page_links_to_its_statements(browser, account):
    html = browser.get(f"/accounts/{account.pk}/").content.decode()

    assert f'href="/accounts/{account.pk}/statements/"' in html


def test_the_statements_page_lists_the_months_with_links(browser, account):
    response = browser.get(f"/accounts/{account.pk}/statements/", {"limit": 100})

    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="/accounts/{account.pk}/statements/2026-01/"' in html
    assert "January 2026" in html
    current = Period.of(timezone.now())
    assert f'href="/accounts/{account.pk}/statements/{current}/"' in html
    assert f"/api/v1/accounts/{account.pk}/statements/2026-01/?format=pdf" in html


def test_the_statement_page_shows_summary_entries_and_downloads(browser, account):
    response = browser.get(f"/accounts/{account.pk}/statements/2026-01/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Statement for January 2026" in html
    for figure in ("EUR 0.00", "EUR 1,000.00", "EUR 25.50", "EUR 974.50"):
        assert figure in html
    assert "Salary" in html
    assert Statement.objects.get(period="2026-01").sha256 in html
    api = f"/api/v1/accounts/{account.pk}/statements/2026-01/"
    assert f'href="{api}?format=csv"' in html and f'href="{api}?format=pdf"' in html
    assert 'name="viewport"' in html  # readable on a phone (base.html)


def test_a_download_link_works_with_the_pages_session(browser, account):
    response = browser.get(f"/api/v1/accounts/{account.pk}/statements/2026-01/?format=csv")

    assert response.status_code == 200
    assert response.content.startswith(b"date,transaction_id")


def test_another_customers_statements_are_the_404_page(browser):
    other = opened(at(2026, 1, 1))
    for path in (f"/accounts/{other.pk}/statements/", f"/accounts/{other.pk}/statements/2026-01/"):
        response = browser.get(path)

        assert response.status_code == 404
        assert "text/html" in response["Content-Type"]


def test_a_malformed_month_is_the_400_page_and_a_month_out_of_range_the_404(browser, account):
    assert browser.get(f"/accounts/{account.pk}/statements/2026-13/").status_code == 400
    assert browser.get(f"/accounts/{account.pk}/statements/2025-12/").status_code == 404


def test_anonymous_visitors_are_sent_to_the_login(client, account):
    response = client.get(f"/accounts/{account.pk}/statements/2026-01/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_pages_ignore_format_and_stay_html(customer, account):
    page = signed_in(customer).get(f"/accounts/{account.pk}/statements/2026-01/", {"format": "pdf"})

    assert page.status_code == 200
    assert "text/html" in page["Content-Type"]
