"""Card authorisations (API.md "Card authorisations (holds)"): authorise holds money from the
available balance without posting; a capture posts a card payment and releases that part; a
void or an expiry releases the rest; every debit checks the available balance."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from cards import keys, services
from cards.errors import (
    AuthorizationClosedError,
    CardInsufficientFundsError,
    CardLimitExceededError,
)
from cards.models import Card, CardAuthorization, CardPayment
from cards.tests.factories import (
    AUTHORIZATIONS,
    PAYMENTS,
    authorize,
    capture,
    card_data,
    credential,
    issued_card,
    pay,
    void,
    wrong_cvc,
)
from conftest import bearer
from core.errors import NotFound, ValidationFailed
from ledger import services as ledger_services
from ledger.checks import check_ledger
from ledger.errors import InsufficientFundsError
from ledger.models import Account, Transaction
from ledger.tests.api import error_of
from ledger.tests.factories import UserFactory, account_for, balance_of, ledger_rows, send

pytestmark = pytest.mark.django_db

HOLD_FIELDS = {
    "id",
    "status",
    "amount",
    "captured_amount",
    "currency",
    "merchant",
    "expires_at",
    "created_at",
}


@pytest.fixture
def merchant():
    return APIClient()  # nobody logged in: a merchant's terminal


@pytest.fixture
def card():
    return issued_card(amount=50_000, daily_limit=20_000)


def url(authorization, action: str) -> str:
    pk = authorization["id"] if isinstance(authorization, dict) else authorization.pk
    return f"{AUTHORIZATIONS}{pk}/{action}/"


def account_of(issued) -> Account:
    return Account.objects.get(pk=issued.card.account_id)


def declined(response, reason: str) -> None:
    assert error_of(response, 402, "card_declined") == {"reason": reason}


def assert_books_ok() -> None:
    report = check_ledger()
    assert report.ok, report.problems


# --- authorise --------------------------------------------------------------------------------


def test_an_authorisation_holds_the_amount_and_posts_nothing(merchant, card, settings):
    rows = ledger_rows()

    response = merchant.post(
        AUTHORIZATIONS, card_data(card, amount=3_000, merchant="Hotel"), format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == HOLD_FIELDS
    assert body["status"] == "pending" and body["amount"] == 3_000
    assert body["captured_amount"] == 0 and body["currency"] == "EUR"
    assert body["merchant"] == "Hotel"
    hold = CardAuthorization.objects.get(pk=body["id"])
    assert hold.expires_at - hold.created_at == settings.HOLD_LIFETIME == timedelta(days=7)
    account = account_of(card)
    assert (account.balance, account.held, account.available_balance) == (50_000, 3_000, 47_000)
    assert ledger_rows() == rows  # held, not posted
    assert_books_ok()


def test_the_hold_lifetime_is_a_setting(card, settings):
    settings.HOLD_LIFETIME = timedelta(hours=1)

    hold = authorize(card, amount=100)

    assert hold.expires_at - hold.created_at == timedelta(hours=1)


def test_the_account_api_shows_the_available_balance(card):
    authorize(card, amount=1_000)
    own = bearer(card.card.account.holder.user)

    body = own.get(f"/api/v1/accounts/{card.card.account_id}/").json()

    assert (body["balance"], body["available_balance"]) == (50_000, 49_000)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("wrong_cvc", "invalid_card"),
        ("frozen_card", "card_inactive"),
        ("frozen_account", "card_inactive"),
        ("expired_card", "card_expired"),
        ("too_much", "insufficient_funds"),
        ("over_limit", "limit_exceeded"),
    ],
)
def test_a_declined_authorisation_holds_nothing(merchant, card, change, reason):
    data = card_data(card, amount=1_000)
    if change == "wrong_cvc":
        data["cvc"] = wrong_cvc(card)
    elif change == "frozen_card":
        services.freeze_card(card=card.card)
    elif change == "frozen_account":
        ledger_services.freeze_account(account=card.card.account, reason="Fraud", by=None)
    elif change == "expired_card":
        Card.objects.filter(pk=card.card.pk).update(expiry_month=1, expiry_year=2025)
        cvc = keys.cvc_for(card.pan, 1, 2025)  # what is printed on that card
        data.update(expiry_month=1, expiry_year=2025, cvc=cvc)
    elif change == "too_much":
        Card.objects.filter(pk=card.card.pk).update(daily_limit=100_000)
        data["amount"] = 50_001
    elif change == "over_limit":
        data["amount"] = 20_001

    declined(merchant.post(AUTHORIZATIONS, data, format="json"), reason)

    assert not CardAuthorization.objects.exists()
    assert account_of(card).held == 0


def test_an_authorisation_checks_the_available_balance_not_the_ledger_balance(card):
    Card.objects.filter(pk=card.card.pk).update(daily_limit=100_000)
    authorize(card, amount=40_000)

    with pytest.raises(CardInsufficientFundsError):
        authorize(card, amount=10_001)
    authorize(card, amount=10_000)  # exactly what is available

    account = account_of(card)
    assert (account.balance, account.held, account.available_balance) == (50_000, 50_000, 0)


def test_the_daily_limit_counts_authorisations_and_payments_but_not_captures_twice(card):
    hold = authorize(card, amount=12_000)  # limit 20,000
    capture(card, hold, amount=12_000)
    pay(card, amount=8_000)  # 12,000 + 8,000: exactly the limit

    with pytest.raises(CardLimitExceededError):
        authorize(card, amount=1)
    with pytest.raises(CardLimitExceededError):
        pay(card, amount=1)


def test_an_authorisation_replays_with_its_key_and_holds_once(merchant, card):
    data = card_data(card, amount=700)
    first = merchant.post(AUTHORIZATIONS, data, format="json", HTTP_IDEMPOTENCY_KEY="a-1")
    again = merchant.post(AUTHORIZATIONS, data, format="json", HTTP_IDEMPOTENCY_KEY="a-1")

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert CardAuthorization.objects.count() == 1
    assert account_of(card).held == 700
    other = merchant.post(
        AUTHORIZATIONS, {**data, "amount": 701}, format="json", HTTP_IDEMPOTENCY_KEY="a-1"
    )
    error_of(other, 409, "idempotency_conflict")


def test_an_authorisation_key_is_scoped_to_the_card(merchant, card):
    another = issued_card(amount=5_000)
    for issued in (card, another):
        response = merchant.post(
            AUTHORIZATIONS, card_data(issued, amount=100), format="json", HTTP_IDEMPOTENCY_KEY="k"
        )
        assert response.status_code == 201

    assert CardAuthorization.objects.count() == 2


def test_an_authorisation_with_bad_fields_is_a_400(merchant, card):
    for bad in ({"amount": 0}, {"amount": "12"}, {"merchant": ""}, {"pan": "12"}):
        response = merchant.post(AUTHORIZATIONS, card_data(card, **bad), format="json")
        error_of(response, 400, "validation_error")
    assert not CardAuthorization.objects.exists()


# --- capture ----------------------------------------------------------------------------------


def test_partial_captures_post_card_payments_until_the_hold_is_used_up(merchant, card):
    hold = authorize(card, amount=5_000, merchant="Car hire")

    first = merchant.post(url(hold, "capture"), credential(card, amount=2_000), format="json")

    assert first.status_code == 201, first.content
    body = first.json()
    assert set(body) == HOLD_FIELDS | {"transaction_id"}
    assert (body["status"], body["captured_amount"]) == ("pending", 2_000)
    txn = Transaction.objects.get(pk=body["transaction_id"])
    assert txn.kind == "card_payment" and txn.description == "Car hire"
    account = account_of(card)
    assert (account.balance, account.held, account.available_balance) == (48_000, 3_000, 45_000)

    rest = merchant.post(url(hold, "capture"), credential(card), format="json")  # all that remains

    assert rest.status_code == 201
    assert (rest.json()["status"], rest.json()["captured_amount"]) == ("closed", 5_000)
    account = account_of(card)
    assert (account.balance, account.held, account.available_balance) == (45_000, 0, 45_000)
    payments = CardPayment.objects.filter(authorization=hold)
    assert sorted(payments.values_list("amount", flat=True)) == [2_000, 3_000]
    error_of(
        merchant.post(url(hold, "capture"), credential(card), format="json"),
        422,
        "authorization_closed",
    )
    assert_books_ok()


def test_a_capture_of_more_than_remains_is_a_400_and_changes_nothing(merchant, card):
    hold = authorize(card, amount=1_000)
    rows = ledger_rows()

    response = merchant.post(url(hold, "capture"), credential(card, amount=1_001), format="json")

    assert error_of(response, 400, "validation_error").keys() == {"amount"}
    assert ledger_rows() == rows
    assert account_of(card).held == 1_000


def test_a_capture_replays_with_its_key_and_posts_once(merchant, card):
    hold = authorize(card, amount=1_000)
    data = credential(card, amount=400)

    first = merchant.post(url(hold, "capture"), data, format="json", HTTP_IDEMPOTENCY_KEY="c")
    again = merchant.post(url(hold, "capture"), data, format="json", HTTP_IDEMPOTENCY_KEY="c")

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert CardPayment.objects.filter(authorization=hold).count() == 1
    assert account_of(card).held == 600
    conflict = merchant.post(
        url(hold, "capture"), {**data, "amount": 401}, format="json", HTTP_IDEMPOTENCY_KEY="c"
    )
    error_of(conflict, 409, "idempotency_conflict")


def test_a_capture_with_the_wrong_card_data_is_declined(merchant, card):
    hold = authorize(card, amount=1_000)

    response = merchant.post(
        url(hold, "capture"), credential(card, cvc=wrong_cvc(card)), format="json"
    )

    declined(response, "invalid_card")
    assert account_of(card).held == 1_000


def test_another_cards_authorisation_is_a_404(merchant, card):
    hold = authorize(card, amount=1_000)
    another = issued_card(amount=5_000)

    for action in ("capture", "void"):
        response = merchant.post(url(hold, action), credential(another), format="json")
        error_of(response, 404, "not_found")
    response = merchant.post(
        f"{AUTHORIZATIONS}01234567-89ab-7def-8123-456789abcdef/void/",
        credential(card),
        format="json",
    )
    error_of(response, 404, "not_found")
    assert CardAuthorization.objects.get(pk=hold.pk).status == "pending"


def test_a_capture_on_a_frozen_card_or_account_still_takes_the_held_money(card):
    """The merchant was promised the money when it was authorised: the hold is theirs."""
    hold = authorize(card, amount=1_000)
    services.freeze_card(card=card.card)
    ledger_services.freeze_account(account=card.card.account, reason="Check", by=None)

    authorization, _ = capture(card, hold)

    assert authorization.status == "closed"
    assert balance_of(card.card.account) == 49_000


# --- void and expiry --------------------------------------------------------------------------


def test_a_void_releases_what_remains(merchant, card):
    hold = authorize(card, amount=1_000)
    capture(card, hold, amount=300)

    response = merchant.post(url(hold, "void"), credential(card), format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["captured_amount"]) == ("voided", 300)
    account = account_of(card)
    assert (account.balance, account.held) == (49_700, 0)
    for action in ("void", "capture"):
        error_of(
            merchant.post(url(hold, action), credential(card), format="json"),
            422,
            "authorization_closed",
        )
    assert_books_ok()


def test_a_void_with_an_amount_is_a_400(merchant, card):
    hold = authorize(card, amount=1_000)

    response = merchant.post(url(hold, "void"), credential(card, amount=5), format="json")

    error_of(response, 400, "validation_error")


def test_a_void_with_the_wrong_card_data_is_declined(merchant, card):
    hold = authorize(card, amount=1_000)

    declined(
        merchant.post(url(hold, "void"), credential(card, cvc=wrong_cvc(card)), format="json"),
        "invalid_card",
    )


def expire(hold: CardAuthorization) -> None:
    CardAuthorization.objects.filter(pk=hold.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )


def test_an_expired_hold_cannot_be_captured_and_expire_holds_releases_it_once(merchant, card):
    hold = authorize(card, amount=1_000)
    live = authorize(card, amount=500)
    expire(hold)

    error_of(
        merchant.post(url(hold, "capture"), credential(card), format="json"),
        422,
        "authorization_closed",
    )
    assert account_of(card).held == 1_500  # held until the expiry releases it

    assert services.expire_holds() == 1
    assert services.expire_holds() == 0  # idempotent

    assert CardAuthorization.objects.get(pk=hold.pk).status == "expired"
    assert CardAuthorization.objects.get(pk=live.pk).status == "pending"
    account = account_of(card)
    assert (account.balance, account.held) == (50_000, 500)
    assert_books_ok()


def test_the_expire_holds_command(card, capsys):
    expire(authorize(card, amount=1_000))

    call_command("expire_holds")
    call_command("expire_holds")

    out = capsys.readouterr().out
    assert "Released 1 expired hold." in out and "Released 0 expired holds." in out
    assert account_of(card).held == 0


def test_expire_holds_leaves_a_hold_captured_meanwhile_alone(card):
    hold = authorize(card, amount=1_000)
    capture(card, hold)
    expire(hold)

    assert services.expire_holds() == 0
    assert CardAuthorization.objects.get(pk=hold.pk).status == "closed"


# --- every debit checks the available balance ------------------------------------------------


def test_transfers_withdrawals_and_payments_check_the_available_balance(card):
    account = account_of(card)
    payee = account_for(UserFactory(), amount=0)
    Card.objects.filter(pk=card.card.pk).update(daily_limit=100_000)
    authorize(card, amount=45_000, merchant="Deposit")

    with pytest.raises(InsufficientFundsError):
        send(account, payee, 5_001)
    with pytest.raises(InsufficientFundsError):
        ledger_services.withdraw(account=account, amount=5_001, initiated_by=None)
    with pytest.raises(CardInsufficientFundsError):
        pay(card, amount=5_001)
    send(account, payee, 5_000)  # exactly what is available

    assert account_of(card).available_balance == 0
    assert_books_ok()


def test_a_reversal_checks_the_available_balance(card):
    account = account_of(card)
    payer = account_for(UserFactory(), amount=1_000)
    sent = send(payer, account, 1_000)  # balance 51,000
    Card.objects.filter(pk=card.card.pk).update(daily_limit=100_000)
    authorize(card, amount=50_001)  # available: 999

    with pytest.raises(InsufficientFundsError):
        ledger_services.reverse(original=sent, initiated_by=None, reason="Mistake")
    assert balance_of(payer) == 0


# --- the database and ledger_check guard it ---------------------------------------------------


def test_the_database_refuses_a_held_amount_above_the_balance_or_below_zero(card):
    for held in (50_001, -1):
        with pytest.raises(IntegrityError), transaction.atomic():
            Account.objects.filter(pk=card.card.account_id).update(held=held)


def test_ledger_check_finds_a_held_amount_that_differs_from_the_open_holds(card):
    authorize(card, amount=1_000)
    Account.objects.filter(pk=card.card.account_id).update(held=999)

    report = check_ledger()

    problems = report.problems["held amounts that differ from the sum of open holds"]
    assert problems == [f"{card.card.account.number}: held 999, open holds sum to 1000"]


def test_ledger_check_finds_a_hold_whose_account_holds_nothing(card):
    hold = authorize(card, amount=1_000)
    Account.objects.filter(pk=card.card.account_id).update(held=0)

    assert not check_ledger().ok
    CardAuthorization.objects.filter(pk=hold.pk).update(status="voided")
    assert check_ledger().ok


# --- services ---------------------------------------------------------------------------------


def test_capture_and_void_refuse_another_cards_authorisation(card):
    hold = authorize(card, amount=1_000)
    another = issued_card(amount=5_000)

    with pytest.raises(NotFound):
        capture(another, hold)
    with pytest.raises(NotFound):
        void(another, hold)


def test_capture_of_nothing_or_too_much_is_refused(card):
    hold = authorize(card, amount=1_000)

    for amount in (0, 1_001):
        with pytest.raises(ValidationFailed):
            capture(card, hold, amount=amount)


def test_a_closed_authorisation_refuses_capture_and_void(card):
    hold = authorize(card, amount=1_000)
    void(card, hold)

    with pytest.raises(AuthorizationClosedError):
        capture(card, hold)
    with pytest.raises(AuthorizationClosedError):
        void(card, hold)


@pytest.mark.django_db(transaction=True)
def test_the_ledger_building_blocks_run_only_inside_a_transaction(card):
    account = account_of(card)
    with pytest.raises(RuntimeError):
        ledger_services.release_hold(account=account, amount=1)
    with pytest.raises(RuntimeError):
        ledger_services.lock_account(account.pk)
    with pytest.raises(RuntimeError):
        ledger_services.capture_hold(account=account, amount=1, merchant="Shop")
    with pytest.raises(RuntimeError):
        ledger_services.place_hold(account=account, amount=1, check=lambda account: None)


# --- statements show only posted entries ------------------------------------------------------


def test_a_statement_shows_only_posted_entries(card):
    own = bearer(card.card.account.holder.user)
    period = timezone.now().strftime("%Y-%m")
    statement = f"/api/v1/accounts/{card.card.account_id}/statements/{period}/"
    before = own.get(statement).json()

    hold = authorize(card, amount=1_000, merchant="Florist")
    held = own.get(statement).json()
    capture(card, hold, amount=400)
    captured = own.get(statement).json()

    assert held["entry_count"] == before["entry_count"]
    assert held["closing_balance"] == before["closing_balance"] == 50_000
    assert captured["entry_count"] == before["entry_count"] + 1
    assert captured["closing_balance"] == 49_600
    assert [e["amount"] for e in captured["entries"]][-1:] == [-400]


# --- the pages --------------------------------------------------------------------------------


def test_the_account_page_and_dashboard_show_available_and_pending_holds(client, card):
    authorize(card, amount=1_234, merchant="Grand Hotel")
    client.force_login(card.card.account.holder.user)

    page = client.get(f"/accounts/{card.card.account_id}/").content.decode()
    dashboard = client.get("/dashboard/").content.decode()

    for html in (page, dashboard):
        assert "Pending card payments" in html and "Grand Hotel" in html
        assert "12.34" in html  # the amount held
        assert "487.66" in html  # available: 500.00 - 12.34
    assert page.index("Pending card payments") < page.index('id="history-title"')


def test_the_pages_show_no_pending_section_without_holds(client, card):
    client.force_login(card.card.account.holder.user)

    assert "Pending card payments" not in client.get("/dashboard/").content.decode()
    assert (
        "Pending card payments"
        not in client.get(f"/accounts/{card.card.account_id}/").content.decode()
    )


def test_a_payment_declined_for_a_held_balance_says_insufficient_funds(merchant, card):
    Card.objects.filter(pk=card.card.pk).update(daily_limit=100_000)
    authorize(card, amount=49_500)

    declined(
        merchant.post(PAYMENTS, card_data(card, amount=501), format="json"), "insufficient_funds"
    )
