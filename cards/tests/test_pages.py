"""The cards pages: the cards viewset mounted again as pages (core/viewset_pages.py)."""

import re
import uuid

import pytest

from accounts.tests.factories import UserFactory
from cards import services
from cards.models import Card
from cards.tests.factories import card_for, issued_card, pay
from cards.views import CardViewSet
from ledger.tests.factories import account_for, frozen_account

pytestmark = pytest.mark.django_db


def templates_of(response) -> list[str]:
    return [t.name for t in response.templates if t.name]


@pytest.fixture
def account(customer):
    return account_for(customer, amount=100_000, nickname="Everyday")


def test_the_cards_page_is_the_cards_viewset(browser):
    response = browser.get("/cards/")

    assert response.status_code == 200
    assert response.resolver_match.func.cls is CardViewSet
    assert "cards/list.html" in templates_of(response)
    assert "No cards yet" in response.content.decode()


def test_the_page_lists_your_cards_masked_with_brand_expiry_status_and_limit(
    browser, customer, account
):
    issued = issued_card(account, daily_limit=45_000)
    theirs = issued_card()

    html = browser.get("/cards/").content.decode()

    assert f"Visa •••• {issued.card.last4}" in html
    assert f"{issued.card.expiry_month:02d}/{issued.card.expiry_year}" in html
    assert "EUR 450.00" in html and "Active" in html and "Everyday" in html
    assert issued.pan not in html
    # Another customer's card is not listed. Its last4 alone is four random
    # digits that a UUID or token on the page may contain by chance, so look
    # for the card as the page would show it, and for its id.
    assert f"•••• {theirs.card.last4}" not in html and str(theirs.card.pk) not in html


def test_issuing_on_the_page_shows_the_number_and_cvc_once(browser, account):
    response = browser.post(
        "/cards/",
        {"issue_token": uuid.uuid4().hex, "account": str(account.pk), "daily_limit": "250.00"},
    )

    assert response.status_code == 201
    html = response.content.decode()
    card = Card.objects.get()
    assert "you will not see this again" in html
    pan = re.sub(r"\D", "", re.search(r'card-pan">([\d ]+)<', html)[1])
    assert pan.endswith(card.last4) and len(pan) == 16
    assert card.daily_limit == 25_000
    again = browser.get("/cards/").content.decode()
    assert "you will not see this again" not in again and pan not in again
    assert pan not in browser.get(f"/cards/{card.pk}/").content.decode()


def test_issuing_without_a_limit_takes_the_default(browser, account, settings):
    assert (
        browser.post(
            "/cards/", {"issue_token": uuid.uuid4().hex, "account": str(account.pk)}
        ).status_code
        == 201
    )
    assert Card.objects.get().daily_limit == settings.CARD_DAILY_LIMIT_DEFAULT


@pytest.mark.parametrize(
    ("limit", "message"),
    [("0", "greater than zero"), ("12.345", "at most 2 decimal"), ("abc", "in figures"),
     ("100000.00", "from 1 to")],
)  # fmt: skip
def test_a_bad_limit_is_shown_beside_the_field(browser, account, limit, message):
    response = browser.post(
        "/cards/",
        {"issue_token": uuid.uuid4().hex, "account": str(account.pk), "daily_limit": limit},
    )

    assert response.status_code == 400
    assert "cards/list.html" in templates_of(response)
    assert re.search(rf'id="id_daily_limit_error">.*?{message}', response.content.decode(), re.S)
    assert not Card.objects.exists()


def test_someone_elses_or_a_frozen_account_cannot_get_a_card(browser, customer):
    stranger = account_for(UserFactory())
    frozen = frozen_account(holder=customer.holder)

    assert (
        browser.post(
            "/cards/", {"issue_token": uuid.uuid4().hex, "account": str(stranger.pk)}
        ).status_code
        == 400
    )
    page = browser.get("/cards/").content.decode()
    assert str(frozen.pk) not in page and str(stranger.pk) not in page
    assert not Card.objects.exists()


def test_freeze_and_unfreeze_from_the_card_page(browser, customer):
    issued = card_for(customer)
    url = f"/cards/{issued.card.pk}/"

    frozen = browser.post(f"{url}freeze/", follow=True)

    assert frozen.redirect_chain == [(url, 302)]
    assert "Your card is frozen" in frozen.content.decode()
    assert Card.objects.get().status == "frozen"
    assert "Unfreeze the card" in frozen.content.decode()
    browser.post(f"{url}unfreeze/")
    assert Card.objects.get().status == "active"


def test_cancel_asks_first_then_cancels_for_good(browser, customer):
    issued = card_for(customer)
    url = f"/cards/{issued.card.pk}/cancel/"

    ask = browser.get(url)

    assert ask.status_code == 200 and "cards/cancel_confirm.html" in templates_of(ask)
    assert "Cancelling is final" in ask.content.decode()
    assert Card.objects.get().status == "active"  # asking changes nothing
    done = browser.post(url, follow=True)
    assert "Your card is cancelled" in done.content.decode()
    assert Card.objects.get().status == "cancelled"
    again = browser.post(url)
    assert again.status_code == 422 and "cancelled" in again.content.decode()


def test_the_daily_limit_changes_on_the_card_page(browser, customer):
    issued = card_for(customer)
    url = f"/cards/{issued.card.pk}/"

    response = browser.post(url, {"daily_limit": "75.50"}, follow=True)

    assert "The daily limit is changed" in response.content.decode()
    assert Card.objects.get().daily_limit == 7_550
    bad = browser.post(url, {"daily_limit": "-3"})
    assert bad.status_code == 400 and "cards/card.html" in templates_of(bad)
    assert Card.objects.get().daily_limit == 7_550


def test_the_card_page_shows_its_recent_payments(browser, customer):
    issued = card_for(customer)
    pay(issued, merchant="Night <Market>", amount=1_999)

    html = browser.get(f"/cards/{issued.card.pk}/").content.decode()

    assert "Night &lt;Market&gt;" in html and "EUR 19.99" in html


def test_history_on_the_account_page_names_the_merchant(browser, customer):
    issued = card_for(customer)
    pay(issued, merchant="Station Kiosk", amount=350)

    html = browser.get(f"/accounts/{issued.card.account_id}/").content.decode()

    assert "To Station Kiosk" in html


def test_someone_elses_card_is_the_404_page(browser):
    theirs = issued_card()
    for verb, suffix in [("get", ""), ("get", "cancel/"), ("post", "freeze/"), ("post", "cancel/")]:
        response = getattr(browser, verb)(f"/cards/{theirs.card.pk}/{suffix}")
        assert response.status_code == 404 and "errors/error.html" in templates_of(response)
    assert Card.objects.get().status == "active"


@pytest.mark.parametrize("path", ["/cards/", "/cards/{id}/", "/cards/{id}/cancel/"])
def test_anonymous_visitors_are_sent_to_log_in(client, path):
    url = path.format(id=issued_card().card.pk)

    response = client.get(url)

    assert response.status_code == 302 and response.url == f"/login/?next={url}"


def test_the_nav_links_the_cards_page(browser):
    assert 'href="/cards/"' in browser.get("/dashboard/").content.decode()


def test_a_freeze_from_the_page_needs_the_csrf_token(customer):
    from django.test import Client

    from conftest import signed_in

    issued = card_for(customer)
    strict = signed_in(customer, Client(enforce_csrf_checks=True))

    assert strict.post(f"/cards/{issued.card.pk}/freeze/").status_code == 403
    services.freeze_card(card=issued.card)  # the service itself still works
    assert Card.objects.get().status == "frozen"


def test_sending_the_issue_form_again_issues_no_second_card(browser, account):
    form = {"account": str(account.pk), "issue_token": uuid.uuid4().hex}
    assert browser.post("/cards/", form).status_code == 201

    again = browser.post("/cards/", form)

    assert again.status_code == 400 and "already sent" in again.content.decode()
    assert Card.objects.count() == 1
    assert "card-pan" not in again.content.decode()


def test_the_issue_form_without_its_token_issues_nothing(browser, account):
    assert browser.post("/cards/", {"account": str(account.pk)}).status_code == 400
    assert not Card.objects.exists()
