"""Holds in a real browser (headless Chromium, JavaScript off): a hotel authorises money on
the customer's card; the dashboard and the account page show the balance, the available
balance and the pending card payment above the history; a partial capture posts to the
history and the rest, voided, leaves the pending list."""

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from cards import services
from cards.tests.factories import authorize, capture, void
from ledger.tests.factories import account_for
from tests.browser.test_journey import visit  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


@pytest.fixture
def dora(transactional_db):
    user = UserFactory(email="dora@example.com", holder__first_name="Dora")
    account = account_for(user, amount=80_000, nickname="Spending")
    card = services.issue_card(owner=user, account_id=account.pk)
    return user, card


def test_a_hold_shows_as_pending_until_captured_and_voided(visit, dora):  # noqa: F811
    user, card = dora
    hold = authorize(card, amount=25_000, merchant="Grand Hotel")
    me = visit()
    page = me.page
    me.log_in(user.email)

    holds = page.get_by_role("table", name="Card payments authorised but not yet taken")
    expect(holds).to_contain_text("Grand Hotel")
    expect(holds).to_contain_text("250.00")
    expect(page.locator(".account-card")).to_contain_text("Available")
    expect(page.locator(".account-card")).to_contain_text("550.00")
    me.snap("holds-01-dashboard")

    page.get_by_role("link", name="Spending").first.click()
    expect(page.get_by_role("heading", name="Pending card payments")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("550.00")
    me.snap("holds-02-account")

    capture(card, hold, amount=18_000)
    void(card, hold)
    page.reload()
    expect(page.get_by_role("heading", name="Pending card payments")).to_have_count(0)
    expect(page.locator("table.history")).to_contain_text("Grand Hotel")
    expect(page.locator(".facts")).to_contain_text("620.00")
