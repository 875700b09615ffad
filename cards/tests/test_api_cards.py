"""The cards API: issue, read, change the limit, freeze, unfreeze, cancel (API.md "Cards")."""

import pytest

from accounts.tests.factories import UserFactory
from cards import keys
from cards.models import Card
from cards.tests.factories import CARDS, card_for, card_url, issued_card
from conftest import bearer
from ledger.tests.api import error_of
from ledger.tests.factories import account_for, closed_account, frozen_account

pytestmark = pytest.mark.django_db

CARD_FIELDS = {
    "id",
    "account",
    "brand",
    "last4",
    "expiry_month",
    "expiry_year",
    "status",
    "daily_limit",
    "created_at",
}


def test_issue_answers_the_number_and_cvc_once(customer, customer_api, settings):
    account = account_for(customer)

    response = customer_api.post(CARDS, {"account": str(account.pk)}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == CARD_FIELDS | {"pan", "cvc"}
    pan, cvc = body["pan"], body["cvc"]
    assert len(pan) == 16 and pan.startswith(settings.CARD_BIN) and keys.luhn_valid(pan)
    assert body["last4"] == pan[-4:] and len(cvc) == 3 and cvc.isdigit()
    assert cvc == keys.cvc_for(pan, body["expiry_month"], body["expiry_year"])
    assert body["account"] == str(account.pk) and body["status"] == "active"
    assert body["brand"] == "visa"
    assert body["daily_limit"] == settings.CARD_DAILY_LIMIT_DEFAULT
    assert body["expiry_year"] >= 2026 + settings.CARD_VALID_YEARS
    card = Card.objects.get()
    assert card.fingerprint == keys.fingerprint(pan, card.key_id)
    # never again: not in the detail, not in the list
    again = customer_api.get(card_url(card)).json()
    assert set(again) == CARD_FIELDS
    assert pan not in str(customer_api.get(CARDS).json())


def test_issue_takes_a_daily_limit(customer, customer_api):
    account = account_for(customer)

    response = customer_api.post(
        CARDS, {"account": str(account.pk), "daily_limit": 25_000}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["daily_limit"] == 25_000


@pytest.mark.parametrize("limit", [0, -1, 1.5, "100", True, None, 10**7, 10**30, [1]])
def test_issue_refuses_a_bad_daily_limit(customer, customer_api, limit):
    account = account_for(customer)

    response = customer_api.post(
        CARDS, {"account": str(account.pk), "daily_limit": limit}, format="json"
    )

    assert "daily_limit" in error_of(response, 400, "validation_error")
    assert not Card.objects.exists()


def test_issue_on_someone_elses_account_is_a_404(customer_api):
    stranger = account_for(UserFactory())
    response = customer_api.post(CARDS, {"account": str(stranger.pk)}, format="json")

    error_of(response, 404, "not_found")
    assert not Card.objects.exists()


@pytest.mark.parametrize("make", [frozen_account, closed_account])
def test_issue_on_an_inactive_account_is_a_422(customer, customer_api, make):
    account = make(holder=customer.holder)

    response = customer_api.post(CARDS, {"account": str(account.pk)}, format="json")

    error_of(response, 422, "account_inactive")
    assert not Card.objects.exists()


@pytest.mark.parametrize(
    "body", [{}, {"account": "not-a-uuid"}, {"account": None}, {"pan": "1", "account": "x"}]
)
def test_issue_refuses_bad_input(customer_api, body):
    error_of(customer_api.post(CARDS, body, format="json"), 400, "validation_error")


def test_cards_need_a_login(api):
    error_of(api.get(CARDS), 401, "not_authenticated")
    error_of(api.post(CARDS, {}, format="json"), 401, "not_authenticated")


def test_list_and_detail_show_only_your_cards(customer, customer_api):
    mine = card_for(customer)
    theirs = issued_card()

    rows = customer_api.get(CARDS).json()["results"]

    assert [row["id"] for row in rows] == [str(mine.card.pk)]
    assert set(rows[0]) == CARD_FIELDS
    assert customer_api.get(card_url(mine)).status_code == 200
    for verb, action in [("get", ""), ("patch", ""), ("post", "freeze"), ("post", "cancel")]:
        response = getattr(customer_api, verb)(
            card_url(theirs, action), {"daily_limit": 5}, format="json"
        )
        error_of(response, 404, "not_found")
    theirs.card.refresh_from_db()
    assert theirs.card.status == "active" and theirs.card.daily_limit != 5


def test_freeze_unfreeze_and_cancel(customer, customer_api):
    issued = card_for(customer)
    account = issued.card.account

    assert customer_api.post(card_url(issued, "freeze")).json()["status"] == "frozen"
    assert customer_api.post(card_url(issued, "freeze")).json()["status"] == "frozen"
    assert customer_api.post(card_url(issued, "unfreeze")).json()["status"] == "active"
    response = customer_api.post(card_url(issued, "cancel"))

    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert set(response.json()) == CARD_FIELDS
    account.refresh_from_db()
    assert account.status == "active" and account.balance == 100_000  # never touched


@pytest.mark.parametrize("action", ["freeze", "unfreeze", "cancel"])
def test_every_action_on_a_cancelled_card_is_card_inactive(customer, customer_api, action):
    issued = card_for(customer)
    customer_api.post(card_url(issued, "cancel"))

    error_of(customer_api.post(card_url(issued, action)), 422, "card_inactive")
    error_of(
        customer_api.patch(card_url(issued), {"daily_limit": 500}, format="json"),
        422,
        "card_inactive",
    )
    issued.card.refresh_from_db()
    assert issued.card.status == "cancelled" and issued.card.daily_limit != 500


def test_the_holder_changes_the_daily_limit(customer, customer_api, settings):
    issued = card_for(customer)

    response = customer_api.patch(
        card_url(issued), {"daily_limit": settings.CARD_DAILY_LIMIT_MAX}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["daily_limit"] == settings.CARD_DAILY_LIMIT_MAX


@pytest.mark.parametrize("body", [{}, {"daily_limit": 0}, {"daily_limit": -5},
                                  {"daily_limit": 2.5}, {"daily_limit": 10**7},
                                  {"daily_limit": 10, "status": "active"}])  # fmt: skip
def test_a_bad_limit_change_is_a_400(customer, customer_api, body):
    issued = card_for(customer)

    error_of(customer_api.patch(card_url(issued), body, format="json"), 400, "validation_error")
    issued.card.refresh_from_db()
    assert issued.card.daily_limit == 100_000


def test_put_and_delete_are_405(customer, customer_api):
    issued = card_for(customer)

    error_of(customer_api.put(card_url(issued), {}, format="json"), 405, "method_not_allowed")
    error_of(customer_api.delete(card_url(issued)), 405, "method_not_allowed")


def test_the_list_costs_the_same_queries_however_many_cards(
    customer, django_assert_max_num_queries
):
    client = bearer(customer)
    for _ in range(2):
        card_for(customer)
    with django_assert_max_num_queries(10) as few:
        client.get(CARDS)
    for _ in range(5):
        card_for(customer)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(CARDS)
