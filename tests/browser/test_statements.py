"""Statements in a real browser (JavaScript off): from the account page to the months, to a
statement with its summary, entries and running balance, readable at phone width, and its
CSV and PDF downloads with the page's own session."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from statements.tests.helpers import at, deposit, opened, send, withdraw
from tests.browser.test_journey import Visit

pytestmark = pytest.mark.browser


@pytest.fixture
def visit(chromium, live_server):
    opened_visits: list[Visit] = []

    def open_visit() -> Visit:
        opened_visits.append(Visit(chromium, live_server))
        return opened_visits[-1]

    yield open_visit
    for one in opened_visits:
        one.close()


def test_statements_pages(visit, transactional_db):
    carol = UserFactory(
        email="carol@example.com", holder__first_name="Carol", holder__last_name="Chen"
    )
    account = opened(at(2026, 1, 10), holder=carol.holder, nickname="Everyday")
    payee = opened(at(2026, 1, 1), holder=UserFactory(holder__first_name="Dan").holder)
    deposit(account, 250_000, at(2026, 1, 11), "Salary January")
    send(account, payee, 12_550, at(2026, 1, 15), "Birthday dinner")
    withdraw(account, 5_000, at(2026, 1, 31, 23, 59, 59))
    deposit(account, 1_000, at(2026, 2, 1, 0, 0, 0), "Refund")

    browser = visit()
    page = browser.page
    browser.log_in("carol@example.com")
    page.goto(f"/accounts/{account.pk}/")
    page.get_by_role("link", name="Statements").click()
    expect(page).to_have_url(re.compile(rf"/accounts/{account.pk}/statements/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Statements")
    expect(page.get_by_role("link", name="January 2026", exact=True)).to_be_visible()
    browser.snap("statements-01-months")

    page.get_by_role("link", name="January 2026", exact=True).click()
    expect(page).to_have_url(re.compile(r"/statements/2026-01/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Statement for January 2026")
    summary = page.locator("section.card dl.facts")
    expect(summary).to_contain_text("EUR 0.00")  # opening: the month the account was opened
    expect(summary).to_contain_text("EUR 2,500.00")
    expect(summary).to_contain_text("EUR 175.50")
    expect(summary).to_contain_text("EUR 2,324.50")
    rows = page.locator("table.history tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(1)).to_contain_text("Birthday dinner")
    expect(rows.nth(1)).to_contain_text("EUR 2,374.50")  # the running balance
    expect(page.locator(".hash code")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    browser.snap("statements-02-january")

    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_role("link", name="Download PDF")).to_be_visible()
    balance = rows.nth(1).locator(".running-balance")  # the running balance, on a phone too
    expect(balance).to_be_visible()
    expect(balance).to_have_text("Balance EUR 2,374.50")
    browser.snap("statements-03-january-phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename == f"statement-{account.number}-2026-01.csv"
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("date,transaction_id,kind,description")
    assert "Birthday dinner" in text and "-125.50" in text
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename.endswith("2026-01.pdf")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")

    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Statements").click()
    page.get_by_role("link", name="February 2026", exact=True).click()
    expect(page.locator("section.card dl.facts")).to_contain_text("EUR 2,324.50")  # opening
    expect(page.locator("table.history tbody tr")).to_have_count(1)
