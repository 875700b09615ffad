"""Card payments (API.md "Cards"): no login, the card data is the credential; an approval is
one ledger transaction, a refusal is 402 card_declined with a reason and posts nothing."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cards import keys, services
from cards.errors import (
    CardExpiredError,
    CardInsufficientFundsError,
    CardLimitExceededError,
    CardNotActiveError,
    InvalidCardError,
)
from cards.models import Card, CardPayment
from cards.tests.factories import PAYMENTS, card_data, card_for, issued_card, pay, wrong_cvc
from conftest import bearer
from core import ratelimit
from ledger import services as ledger_services
from ledger.checks import check_ledger
from ledger.clock import posting_time
from ledger.idempotency import fingerprint
from ledger.models import Account, Entry, IdempotencyKey, Transaction
from ledger.tests.api import error_of
from ledger.tests.factories import UserFactory, account_for, balance_of, ledger_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def merchant():
    return APIClient()  # nobody logged in: a merchant's terminal


@pytest.fixture
def card():
    return issued_card(amount=50_000, daily_limit=20_000)


def declined(response, reason: str) -> None:
    assert error_of(response, 402, "card_declined") == {"reason": reason}


def test_an_approved_payment_is_one_card_payment_transaction(merchant, card):
    account = card.card.account

    response = merchant.post(PAYMENTS, card_data(card, amount=1_250), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "status", "amount", "currency", "merchant", "created_at"}
    assert body["status"] == "approved" and body["amount"] == 1_250
    assert body["currency"] == "EUR" and body["merchant"] == "Corner Coffee"
    txn = Transaction.objects.get(kind="card_payment")
    assert str(txn.pk) == body["id"] and txn.description == "Corner Coffee"
    legs = dict(Entry.objects.filter(transaction=txn).values_list("account__type", "amount"))
    assert legs == {"checking": -1_250, "internal": 1_250}
    settlement = Account.objects.get(type="internal", currency="EUR")
    assert Entry.objects.get(transaction=txn, amount=1_250).account == settlement
    assert balance_of(account) == 50_000 - 1_250
    payment = CardPayment.objects.get()
    assert (payment.card, payment.transaction, payment.amount) == (card.card, txn, 1_250)
    assert check_ledger().ok


def test_a_bearer_token_is_neither_needed_nor_used(customer, card):
    response = bearer(customer).post(PAYMENTS, card_data(card), format="json")

    assert response.status_code == 201  # the card paid, not the logged-in customer


@pytest.mark.parametrize(
    "change",
    [
        lambda c: {"pan": keys.new_pan()},  # unknown number
        lambda c: {"pan": c.pan[:-1] + str((int(c.pan[-1]) + 1) % 10)},  # not even Luhn
        lambda c: {"expiry_month": c.card.expiry_month % 12 + 1},
        lambda c: {"expiry_year": c.card.expiry_year + 1},
        lambda c: {"cvc": wrong_cvc(c)},
    ],
    ids=["unknown-pan", "bad-luhn", "wrong-month", "wrong-year", "wrong-cvc"],
)
def test_unknown_number_wrong_expiry_and_wrong_cvc_are_one_invalid_card(merchant, card, change):
    before = ledger_rows()
    unknown = merchant.post(PAYMENTS, card_data(card, pan=keys.new_pan()), format="json")

    response = merchant.post(PAYMENTS, card_data(card, **change(card)), format="json")

    declined(response, "invalid_card")
    assert response.content == unknown.content  # indistinguishable, byte for byte
    assert ledger_rows() == before and not CardPayment.objects.exists()


def test_every_invalid_card_does_the_same_work(card, django_assert_num_queries):
    """The same statements whether the number is unknown or the CVC is wrong: one lookup,
    one failure count (of no row for an unknown number)."""
    queries = []
    for data in (card_data(card, pan=keys.new_pan()), card_data(card, cvc=wrong_cvc(card))):
        # SELECT, SAVEPOINT, UPDATE, RELEASE
        with django_assert_num_queries(4) as captured, pytest.raises(InvalidCardError):
            services.pay(**data)
        queries.append([q["sql"].split()[0] for q in captured.captured_queries])
    assert queries[0] == queries[1]


@pytest.mark.parametrize(
    ("arrange", "reason"),
    [
        (lambda c: services.freeze_card(card=c.card), "card_inactive"),
        (lambda c: services.cancel_card(card=c.card), "card_inactive"),
        (
            lambda c: ledger_services.freeze_account(account=c.card.account, reason="t", by=None),
            "card_inactive",
        ),
    ],
    ids=["frozen-card", "cancelled-card", "frozen-account"],
)
def test_an_inactive_card_or_account_declines(merchant, card, arrange, reason):
    arrange(card)
    before = ledger_rows()

    declined(merchant.post(PAYMENTS, card_data(card), format="json"), reason)
    assert ledger_rows() == before


def test_a_closed_account_declines_its_cards(merchant):
    issued = issued_card(account_for(UserFactory()))
    ledger_services.close_account(account=issued.card.account, reason="t", by=None)

    declined(merchant.post(PAYMENTS, card_data(issued), format="json"), "card_inactive")


def test_an_expired_card_declines(merchant, card):
    Card.objects.filter(pk=card.card.pk).update(expiry_month=1, expiry_year=2025)
    cvc = keys.cvc_for(card.pan, 1, 2025)  # what is printed on that card
    before = ledger_rows()

    response = merchant.post(
        PAYMENTS, card_data(card, expiry_month=1, expiry_year=2025, cvc=cvc), format="json"
    )

    declined(response, "card_expired")
    assert ledger_rows() == before


def test_a_card_is_valid_to_the_end_of_its_expiry_month(card):
    now = timezone.now()
    Card.objects.filter(pk=card.card.pk).update(expiry_month=now.month, expiry_year=now.year)
    cvc = keys.cvc_for(card.pan, now.month, now.year)

    assert pay(card, expiry_month=now.month, expiry_year=now.year, cvc=cvc).kind == "card_payment"


def test_not_enough_money_declines(merchant):
    issued = issued_card(amount=1_000)

    declined(
        merchant.post(PAYMENTS, card_data(issued, amount=1_001), format="json"),
        "insufficient_funds",
    )
    assert balance_of(issued.card.account) == 1_000


def test_the_daily_limit_counts_todays_approved_payments(merchant, card):
    pay(card, amount=15_000)

    declined(
        merchant.post(PAYMENTS, card_data(card, amount=5_001), format="json"), "limit_exceeded"
    )
    assert merchant.post(PAYMENTS, card_data(card, amount=5_000), format="json").status_code == 201
    with pytest.raises(CardLimitExceededError):
        pay(card, amount=1)
    assert CardPayment.objects.count() == 2


def test_yesterdays_payments_do_not_count_toward_today(card):
    with posting_time(timezone.now() - timedelta(days=1)):
        pay(card, amount=20_000)

    assert pay(card, amount=20_000).kind == "card_payment"


def test_a_declined_payment_does_not_count_toward_the_limit(card):
    Account.objects.filter(pk=card.card.account_id).update(status="frozen")
    with pytest.raises(CardNotActiveError):
        pay(card, amount=20_000)
    Account.objects.filter(pk=card.card.account_id).update(status="active")

    assert pay(card, amount=20_000).kind == "card_payment"


def test_declines_are_domain_errors_with_their_reasons():
    for error, reason in [
        (InvalidCardError, "invalid_card"),
        (CardNotActiveError, "card_inactive"),
        (CardExpiredError, "card_expired"),
        (CardInsufficientFundsError, "insufficient_funds"),
        (CardLimitExceededError, "limit_exceeded"),
    ]:
        assert error().code == "card_declined" and error().http_status == 402
        assert error().details == {"reason": reason}


# --- idempotency --------------------------------------------------------------------------


def test_a_retry_with_the_same_key_replays_and_posts_once(merchant, card):
    first = merchant.post(PAYMENTS, card_data(card), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = merchant.post(PAYMENTS, card_data(card), format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Transaction.objects.filter(kind="card_payment").count() == 1


def test_the_same_key_with_another_payment_is_a_409(merchant, card):
    merchant.post(PAYMENTS, card_data(card), format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    response = merchant.post(
        PAYMENTS, card_data(card, amount=999), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )

    error_of(response, 409, "idempotency_conflict")
    assert CardPayment.objects.count() == 1


def test_keys_are_scoped_to_the_card(merchant, card):
    other = issued_card()

    for issued in (card, other):
        response = merchant.post(
            PAYMENTS, card_data(issued), format="json", HTTP_IDEMPOTENCY_KEY="till-7"
        )
        assert response.status_code == 201
    assert sorted(IdempotencyKey.objects.values_list("scope", flat=True)) == sorted(
        [f"card:{card.card.pk}", f"card:{other.card.pk}"]
    )


def test_a_declined_payment_stores_no_key_and_a_retry_runs_again(merchant):
    issued = issued_card(amount=1_000)
    data = card_data(issued, amount=2_000)

    declined(
        merchant.post(PAYMENTS, data, format="json", HTTP_IDEMPOTENCY_KEY="k"),
        "insufficient_funds",
    )
    assert not IdempotencyKey.objects.exists()
    ledger_services.deposit(account=issued.card.account, amount=5_000, initiated_by=None)
    assert merchant.post(PAYMENTS, data, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201


def test_the_stored_key_holds_no_card_data(merchant, card):
    merchant.post(PAYMENTS, card_data(card), format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    row = IdempotencyKey.objects.get()
    # the request's fingerprint leaves the card data out: a hash of a PAN could be searched for
    payment = {"amount": 1_250, "merchant": "Corner Coffee"}
    assert row.fingerprint == fingerprint(method="POST", path=PAYMENTS, body=payment)
    stored = f"{row.fingerprint} {row.response_body} {row.scope}"
    assert card.pan not in stored
    # the stored answer is the payment alone: no field of the card, not even its last4
    # (searching the text for four digits would also find them in a UUID or a timestamp)
    payment_fields = {"id", "status", "amount", "currency", "merchant", "created_at"}
    assert set(row.response_body) == payment_fields


@pytest.mark.parametrize("key", ["", "x" * 256, "bad\nkey"])
def test_a_bad_key_is_a_400(merchant, card, key):
    response = merchant.post(PAYMENTS, card_data(card), format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert "Idempotency-Key" in error_of(response, 400, "validation_error")


# --- wrong CVCs and guessing ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_five_wrong_cvcs_in_a_day_freeze_the_card_though_each_answers_402(merchant, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "card_invalid": "100/15min"}
    issued = issued_card()
    for attempt in range(1, 5):
        declined(
            merchant.post(PAYMENTS, card_data(issued, cvc=wrong_cvc(issued)), format="json"),
            "invalid_card",
        )
        issued.card.refresh_from_db()
        assert (issued.card.cvc_failures, issued.card.status) == (attempt, "active")

    declined(
        merchant.post(PAYMENTS, card_data(issued, cvc=wrong_cvc(issued)), format="json"),
        "invalid_card",
    )

    issued.card.refresh_from_db()
    assert (issued.card.cvc_failures, issued.card.status) == (5, "frozen")
    # Blocked for the day: the right data get the same refusal as wrong ones, so guessing on
    # cannot tell the right CVC by a different answer.
    declined(merchant.post(PAYMENTS, card_data(issued), format="json"), "invalid_card")
    assert merchant.post(PAYMENTS, card_data(issued), format="json").content == (
        merchant.post(PAYMENTS, card_data(issued, cvc=wrong_cvc(issued)), format="json").content
    )


def test_the_holders_unfreeze_clears_the_days_wrong_cvcs(merchant, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "card_invalid": "100/15min"}
    issued = issued_card()
    for _ in range(5):
        merchant.post(PAYMENTS, card_data(issued, cvc=wrong_cvc(issued)), format="json")
    issued.card.refresh_from_db()
    assert issued.card.status == "frozen"

    services.unfreeze_card(card=issued.card)

    issued.card.refresh_from_db()
    assert (issued.card.cvc_failures, issued.card.status) == (0, "active")
    assert merchant.post(PAYMENTS, card_data(issued), format="json").status_code == 201


def test_yesterdays_wrong_cvcs_do_not_count(card):
    yesterday = timezone.now().date() - timedelta(days=1)
    Card.objects.filter(pk=card.card.pk).update(cvc_failures=4, cvc_failures_on=yesterday)

    with pytest.raises(InvalidCardError):
        pay(card, cvc=wrong_cvc(card))

    card.card.refresh_from_db()
    assert (card.card.cvc_failures, card.card.status) == (1, "active")


def test_a_wrong_cvc_on_another_card_counts_nothing_here(card):
    other = issued_card()
    with pytest.raises(InvalidCardError):
        pay(other, cvc=wrong_cvc(other))

    card.card.refresh_from_db()
    assert card.card.cvc_failures == 0


def test_invalid_cards_are_throttled_per_client_address(card, settings, monkeypatch):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "card_invalid": "3/15min"}
    # One fixed window whatever the wall clock (accounts/tests/test_ratelimit.py, `limits`).
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_000.0))
    guesser = APIClient(REMOTE_ADDR="198.51.100.7")
    for _ in range(3):
        declined(
            guesser.post(PAYMENTS, card_data(card, pan=keys.new_pan()), format="json"),
            "invalid_card",
        )

    refused = guesser.post(PAYMENTS, card_data(card), format="json")

    error_of(refused, 429, "throttled")
    assert int(refused["Retry-After"]) > 0
    assert not CardPayment.objects.exists()  # not even a good card, from that address
    other = APIClient(REMOTE_ADDR="203.0.113.9")
    assert other.post(PAYMENTS, card_data(card), format="json").status_code == 201


# --- input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("pan", "4000 0000 0000 0002"),
        ("pan", 4000000000000002),
        ("pan", "12345"),
        ("pan", "4" * 20),
        ("cvc", "12"),
        ("cvc", 123),
        ("cvc", "12a"),
        ("expiry_month", 13),
        ("expiry_month", "12"),
        ("expiry_month", True),
        ("expiry_year", 1999),
        ("expiry_year", 2030.0),
        ("amount", 0),
        ("amount", 1.5),
        ("amount", "100"),
        ("merchant", ""),
        ("merchant", "m" * 141),
        ("merchant", None),
    ],
)
def test_bad_input_is_a_400_that_never_echoes_the_card_data(merchant, card, field, value):
    response = merchant.post(PAYMENTS, card_data(card, **{field: value}), format="json")

    assert field in error_of(response, 400, "validation_error")
    text = response.content.decode()
    assert card.pan not in text
    if field in ("pan", "cvc"):
        assert str(value) not in text
    assert not CardPayment.objects.exists()


def test_unknown_fields_are_a_400(merchant, card):
    response = merchant.post(PAYMENTS, {**card_data(card), "holder": "x"}, format="json")

    assert "holder" in error_of(response, 400, "validation_error")


def test_get_is_a_405(merchant):
    error_of(merchant.get(PAYMENTS), 405, "method_not_allowed")


# --- history --------------------------------------------------------------------------------


def test_history_names_the_merchant_and_transfers_leave_card_payments_out(customer):
    issued = card_for(customer)
    pay(issued, merchant="Bakery & Sons", amount=480)
    client = bearer(customer)

    rows = client.get(f"/api/v1/accounts/{issued.card.account_id}/transactions/").json()
    payment = rows["results"][0]

    assert payment["kind"] == "card_payment" and payment["amount"] == -480
    assert payment["counterparty"] == {"name": "Bakery & Sons", "account_number": None}
    assert payment["description"] == "Bakery & Sons"
    assert client.get("/api/v1/transfers/").json()["results"] == []


def test_a_merchant_over_140_characters_is_a_400_even_padded_with_spaces(merchant, card):
    response = merchant.post(
        PAYMENTS, card_data(card, merchant="  " + "m" * 139 + "  "), format="json"
    )

    assert "merchant" in error_of(response, 400, "validation_error")
