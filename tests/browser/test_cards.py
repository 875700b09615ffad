"""The cards page in a real browser (headless Chromium, JavaScript off): a customer issues a
card and reads its number once, pays with it, changes its limit, freezes, unfreezes and
cancels it behind the confirmation step."""

import re

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from cards import services
from cards.models import Card
from ledger.tests.factories import account_for
from tests.browser.test_journey import visit  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


@pytest.fixture
def carol(transactional_db):
    user = UserFactory(email="carol@example.com", holder__first_name="Carol")
    account_for(user, amount=80_000, nickname="Spending")
    return user


def test_a_card_from_issue_to_cancel(visit, carol):  # noqa: F811
    me = visit()
    page = me.page
    me.log_in(carol.email)
    me.nav("Cards")
    expect(page.get_by_role("heading", name="No cards yet")).to_be_visible()
    me.snap("cards-01-empty")

    page.get_by_label("Account the card pays from").select_option(index=0)
    page.get_by_label("Daily limit (optional)").fill("150.00")
    page.get_by_role("button", name="Issue the card").click()

    once = page.locator(".card-once")
    expect(once).to_contain_text("you will not see this again")
    pan = re.sub(r"\D", "", page.locator(".card-pan").inner_text())
    cvc = page.locator(".card-cvc").inner_text()
    me.snap("cards-02-issued")
    card = Card.objects.get()
    assert pan.endswith(card.last4) and len(pan) == 16 and card.daily_limit == 15_000

    # The merchant takes a payment with what was shown; the number is never shown again.
    services.pay(
        pan=pan,
        expiry_month=card.expiry_month,
        expiry_year=card.expiry_year,
        cvc=cvc,
        amount=4_250,
        merchant="Riverside Books",
    )
    page.reload()  # the browser sends the form again: no second card, the number not again
    expect(page.locator(".form-errors")).to_contain_text("already sent")
    assert Card.objects.count() == 1 and pan not in page.content()
    me.nav("Cards")
    expect(page.locator(".card-once")).to_have_count(0)
    assert pan not in page.content()
    page.get_by_role("link", name=re.compile(f"•••• {card.last4}")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(card.last4)
    expect(page.locator("td.merchant")).to_have_text("Riverside Books")
    me.snap("cards-03-card")

    page.get_by_label("New daily limit").fill("99.99")
    page.get_by_role("button", name="Change the limit").click()
    expect(page.get_by_text("The daily limit is changed.")).to_be_visible()
    page.get_by_role("button", name="Freeze the card").click()
    expect(page.get_by_text("Your card is frozen.", exact=False)).to_be_visible()
    page.get_by_role("button", name="Unfreeze the card").click()
    expect(page.get_by_text("Your card is active again.")).to_be_visible()

    page.get_by_role("link", name="Cancel the card").click()
    expect(page.get_by_text("Cancelling is final.")).to_be_visible()
    me.snap("cards-04-cancel-confirm")
    assert Card.objects.get().status == "active"
    page.get_by_role("button", name="Yes, cancel the card").click()
    expect(page.get_by_text("Your card is cancelled.", exact=False).first).to_be_visible()
    expect(page.get_by_role("button", name="Freeze the card")).to_have_count(0)
    me.snap("cards-05-cancelled")
    card.refresh_from_db()
    assert (card.status, card.daily_limit) == ("cancelled", 9_999)
