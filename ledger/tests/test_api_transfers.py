"""/api/v1/transfers/: API.md's Transfers table, its refusals, idempotency and pagination."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from accounts.tests.factories import UserFactory
from conftest import bearer
from ledger import services
from ledger.models import IdempotencyKey, Transaction
from ledger.numbers import new_account_number
from ledger.tests.api import (
    BAD_AMOUNTS,
    PAGE_FIELDS,
    TRANSFER_FIELDS,
    TRANSFERS,
    error_of,
    transfer_url,
    walk,
)
from ledger.tests.factories import (
    AccountFactory,
    account_for,
    balance_of,
    clock,
    closed_account,
    frozen_account,
    funded_account,
    ledger_rows,
    send,
)

pytestmark = pytest.mark.django_db


def body(source, destination, amount=300, **extra) -> dict:
    return {
        "from_account": str(source.pk),
        "to_account_number": destination.number,
        "amount": amount,
        **extra,
    }


def key(value: str) -> dict:
    return {"HTTP_IDEMPOTENCY_KEY": value}


def broken_check_digits(number: str) -> str:
    last = (int(number[-1]) + 1) % 10
    return number[:-1] + str(last)


@pytest.fixture
def mine(customer):
    return account_for(customer, amount=1000)


@pytest.fixture
def payee():
    return AccountFactory(holder__first_name="Grace", holder__last_name="Hopper")


# --- create ---------------------------------------------------------------------------------


def test_create_transfer_answers_201_with_the_posted_transfer(customer_api, mine, payee):
    response = customer_api.post(TRANSFERS, body(mine, payee, 300, description="Rent"))

    assert response.status_code == 201
    got = response.json()
    assert set(got) == TRANSFER_FIELDS
    assert {k: v for k, v in got.items() if k not in ("id", "created_at")} == {
        "direction": "sent",
        "from_account": str(mine.pk),
        "from_account_number": mine.number,
        "to_account_number": payee.number,
        "amount": 300,
        "currency": "EUR",
        "status": "posted",
        "description": "Rent",
    }
    assert Transaction.objects.get(id=got["id"]).kind == "transfer"


def test_create_transfer_moves_the_money(customer_api, mine, payee):
    customer_api.post(TRANSFERS, body(mine, payee, 300))

    assert (balance_of(mine), balance_of(payee)) == (700, 300)


def test_create_transfer_accepts_a_number_typed_with_spaces_and_dashes(customer_api, mine, payee):
    typed = f"{payee.number[:4]} {payee.number[4:8]}-{payee.number[8:]}"

    response = customer_api.post(TRANSFERS, body(mine, payee, to_account_number=typed))

    assert (response.status_code, response.json()["to_account_number"]) == (201, payee.number)


def test_create_transfer_may_pay_another_of_my_accounts(customer, customer_api, mine):
    savings = account_for(customer, type="savings")

    response = customer_api.post(TRANSFERS, body(mine, savings, 250))

    assert response.status_code == 201
    assert balance_of(savings) == 250


def test_create_transfer_answers_the_same_as_a_later_get(customer_api, mine, payee):
    created = customer_api.post(TRANSFERS, body(mine, payee, 300)).json()

    fetched = customer_api.get(transfer_url(created["id"])).json()

    assert fetched == created


@pytest.mark.parametrize("amount", BAD_AMOUNTS, ids=repr)
def test_create_transfer_refuses_a_bad_amount_with_400(customer_api, mine, payee, amount):
    before = ledger_rows()

    response = customer_api.post(TRANSFERS, body(mine, payee, amount))

    assert "amount" in error_of(response, 400, "validation_error")
    assert ledger_rows() == before


def test_create_transfer_accepts_the_largest_amount_then_refuses_it_for_funds(
    customer_api, mine, payee
):
    response = customer_api.post(TRANSFERS, body(mine, payee, 10**15 - 1))

    error_of(response, 422, "insufficient_funds")


@pytest.mark.parametrize("field", ["from_account", "to_account_number", "amount"])
def test_create_transfer_refuses_a_missing_field_with_400(customer_api, mine, payee, field):
    sent = body(mine, payee)
    del sent[field]

    response = customer_api.post(TRANSFERS, sent)

    assert field in error_of(response, 400, "validation_error")


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"description": "d" * 141}, "description"),
        ({"from_account": "not-a-uuid"}, "from_account"),
        ({"to_account_number": "12345"}, "to_account_number"),
        ({"to_account_number": "abcdefghij"}, "to_account_number"),
        ({"to_account_number": "²" * 10}, "to_account_number"),
        ({"to_account_number": "1" * 35}, "to_account_number"),
        ({"description": "a\x00b"}, "description"),
        ({"description": "a\ud800b"}, "description"),
        ({"currency": "EUR"}, "currency"),
        ({"status": "posted"}, "status"),
    ],
)
def test_create_transfer_refuses_invalid_fields_with_400(customer_api, mine, payee, extra, field):
    before = ledger_rows()
    raw = json.dumps(body(mine, payee, **extra))  # ASCII-escaped, so a lone surrogate can travel

    response = customer_api.post(TRANSFERS, raw, content_type="application/json")

    assert field in error_of(response, 400, "validation_error")
    assert ledger_rows() == before


def test_create_transfer_refuses_a_number_whose_check_digits_fail_with_400(
    customer_api, mine, payee
):
    wrong = broken_check_digits(payee.number)

    response = customer_api.post(TRANSFERS, body(mine, payee, to_account_number=wrong))

    assert "to_account_number" in error_of(response, 400, "validation_error")


def test_create_transfer_accepts_a_description_of_140_characters(customer_api, mine, payee):
    response = customer_api.post(TRANSFERS, body(mine, payee, description="d" * 140))

    assert response.status_code == 201


def test_create_transfer_refuses_a_body_that_is_not_json(customer_api):
    response = customer_api.post(TRANSFERS, "[1,", content_type="application/json")

    error_of(response, 400, "validation_error")


def test_create_transfer_refuses_a_body_over_1_mib(customer_api, mine, payee):
    huge = body(mine, payee, description="d" * (1024 * 1024 + 1))

    response = customer_api.post(TRANSFERS, huge)

    error_of(response, 413, "request_too_large")


# --- 404 ------------------------------------------------------------------------------------


def test_create_transfer_answers_404_for_an_unknown_from_account(customer_api, payee):
    sent = {"from_account": str(uuid.uuid4()), "to_account_number": payee.number, "amount": 1}

    response = customer_api.post(TRANSFERS, sent)

    error_of(response, 404, "not_found")


def test_create_transfer_answers_404_for_someone_elses_from_account(customer_api, payee):
    theirs = funded_account(1000)

    response = customer_api.post(TRANSFERS, body(theirs, payee, 100))

    error_of(response, 404, "not_found")
    assert (balance_of(theirs), balance_of(payee)) == (1000, 0)


def test_create_transfer_answers_404_for_an_unknown_account_number(customer_api, mine):
    number = new_account_number()

    response = customer_api.post(
        TRANSFERS, {"from_account": str(mine.pk), "to_account_number": number, "amount": 1}
    )

    error_of(response, 404, "not_found")


def test_create_transfer_answers_404_for_the_bank_settlement_account(customer_api, mine):
    bank = services.settlement_account("EUR")
    before = ledger_rows()

    response = customer_api.post(TRANSFERS, body(mine, bank, 100))

    error_of(response, 404, "not_found")
    assert (ledger_rows(), balance_of(mine)) == (before, 1000)


def test_create_transfer_answers_404_to_staff_for_a_customers_from_account(staff_api, payee):
    response = staff_api.post(TRANSFERS, body(funded_account(1000), payee, 100))

    error_of(response, 404, "not_found")


# --- 422 ------------------------------------------------------------------------------------


def refused(customer_api, source, destination, amount, code):
    before = ledger_rows()
    balances = (balance_of(source), balance_of(destination))

    response = customer_api.post(TRANSFERS, body(source, destination, amount))

    error_of(response, 422, code)
    assert ledger_rows() == before
    assert (balance_of(source), balance_of(destination)) == balances


def test_create_transfer_refuses_an_overdraft_with_422(customer_api, mine, payee):
    refused(customer_api, mine, payee, 1001, "insufficient_funds")


def test_create_transfer_refuses_a_frozen_source_with_422(customer, customer_api, payee):
    source = frozen_account(1000, holder=customer.holder)

    refused(customer_api, source, payee, 100, "account_inactive")


def test_create_transfer_refuses_a_closed_source_with_422(customer, customer_api, payee):
    source = closed_account(holder=customer.holder)

    refused(customer_api, source, payee, 100, "account_inactive")


def test_create_transfer_refuses_a_frozen_destination_with_422(customer_api, mine):
    refused(customer_api, mine, frozen_account(), 100, "account_inactive")


def test_create_transfer_refuses_a_closed_destination_with_422(customer_api, mine):
    refused(customer_api, mine, closed_account(), 100, "account_inactive")


def test_create_transfer_refuses_another_currency_with_422(customer_api, mine):
    refused(customer_api, mine, AccountFactory(currency="USD"), 100, "currency_mismatch")


def test_create_transfer_refuses_the_same_account_with_422(customer_api, mine):
    refused(customer_api, mine, mine, 100, "same_account")


# --- auth and verbs -------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "detail"), [("get", False), ("post", False), ("get", True)])
def test_transfers_api_refuses_a_request_without_token(api, mine, payee, method, detail):
    txn = send(mine, payee, 100)
    url = transfer_url(txn.pk) if detail else TRANSFERS

    response = getattr(api, method)(url, body(mine, payee, 1))

    error_of(response, 401, "not_authenticated")
    assert balance_of(payee) == 100


@pytest.mark.parametrize(
    ("method", "detail"),
    [
        ("put", True),
        ("patch", True),
        ("delete", True),
        ("post", True),
        ("put", False),
        ("patch", False),
        ("delete", False),
    ],
)
def test_transfers_api_answers_405_for_a_verb_the_path_does_not_list(
    customer_api, mine, payee, method, detail
):
    txn = send(mine, payee, 100)
    url = transfer_url(txn.pk) if detail else TRANSFERS

    response = getattr(customer_api, method)(url, {"description": "edited"})

    error_of(response, 405, "method_not_allowed")
    txn.refresh_from_db()
    assert txn.description == ""


# --- list and detail ------------------------------------------------------------------------


def test_list_transfers_shows_sent_and_received_newest_first(customer, customer_api, mine):
    other = funded_account(1000)
    sent = send(mine, other, 100)
    received = send(other, mine, 40)

    rows = customer_api.get(TRANSFERS).json()["results"]

    assert [(r["id"], r["direction"]) for r in rows] == [
        (str(received.pk), "received"),
        (str(sent.pk), "sent"),
    ]


def test_list_transfers_has_the_page_and_transfer_shape(customer_api, mine, payee):
    send(mine, payee, 100)

    got = customer_api.get(TRANSFERS).json()

    assert set(got) == PAGE_FIELDS
    assert set(got["results"][0]) == TRANSFER_FIELDS


def test_list_transfers_received_has_no_from_account(customer_api, mine):
    payer = funded_account(1000)
    send(payer, mine, 40)

    row = customer_api.get(TRANSFERS).json()["results"][0]

    assert {k: row[k] for k in row if k not in ("id", "created_at", "description")} == {
        "direction": "received",
        "from_account": None,
        "from_account_number": payer.number,
        "to_account_number": mine.number,
        "amount": 40,
        "currency": "EUR",
        "status": "posted",
    }


def test_list_transfers_shows_one_between_my_own_accounts_once_as_sent(
    customer, customer_api, mine
):
    savings = account_for(customer, type="savings")
    txn = send(mine, savings, 100)

    rows = customer_api.get(TRANSFERS).json()["results"]

    assert [(r["id"], r["direction"], r["from_account"]) for r in rows] == [
        (str(txn.pk), "sent", str(mine.pk))
    ]


def test_list_transfers_leaves_out_deposits_withdrawals_and_reversals(customer_api, mine, payee):
    services.withdraw(account=mine, amount=10, initiated_by=None)
    services.reverse(original=send(mine, payee, 100), initiated_by=None, reason="error")

    rows = customer_api.get(TRANSFERS).json()["results"]

    assert [r["direction"] for r in rows] == ["sent"]


def test_list_transfers_limit_defaults_to_25(customer_api, mine, payee):
    for _ in range(26):
        send(mine, payee, 1)

    got = customer_api.get(TRANSFERS).json()

    assert len(got["results"]) == 25
    assert got["next"] is not None


def test_list_transfers_serves_a_limit_over_100_as_100(customer_api, mine, payee):
    for _ in range(101):
        send(mine, payee, 1)

    got = customer_api.get(f"{TRANSFERS}?limit=101").json()

    assert len(got["results"]) == 100


@pytest.mark.parametrize("limit", ["", "0", "abc", "-1"])
def test_list_transfers_refuses_a_bad_limit(customer_api, limit):
    response = customer_api.get(f"{TRANSFERS}?limit={limit}")

    assert "limit" in error_of(response, 400, "validation_error")


def test_list_transfers_refuses_a_cursor_it_did_not_issue(customer_api):
    response = customer_api.get(f"{TRANSFERS}?cursor=garbage")

    assert "cursor" in error_of(response, 400, "validation_error")


def test_list_transfers_cursor_is_stable_while_new_transfers_arrive(customer_api, mine, payee):
    start = datetime(2024, 1, 1, tzinfo=UTC)
    old = []
    for i in range(5):
        with clock(start + timedelta(minutes=i)):
            old.append(str(send(mine, payee, 1).pk))
    first = customer_api.get(f"{TRANSFERS}?limit=2").json()
    send(mine, payee, 1)
    send(mine, payee, 1)

    rows = first["results"] + walk(customer_api, first["next"])

    assert [r["id"] for r in rows] == old[::-1]


def test_get_transfer_answers_the_sender(customer_api, mine, payee):
    txn = send(mine, payee, 100, description="Books")

    got = customer_api.get(transfer_url(txn.pk)).json()

    assert (got["id"], got["direction"], got["from_account"], got["description"]) == (
        str(txn.pk),
        "sent",
        str(mine.pk),
        "Books",
    )


def test_get_transfer_answers_the_receiver_from_their_side(mine, payee):
    txn = send(mine, payee, 100)

    response = bearer(payee.holder.user).get(transfer_url(txn.pk))

    assert response.status_code == 200
    assert (response.json()["direction"], response.json()["from_account"]) == ("received", None)


def test_get_transfer_answers_404_for_an_unknown_id(customer_api):
    error_of(customer_api.get(transfer_url(uuid.uuid4())), 404, "not_found")


def test_get_transfer_answers_404_for_an_id_that_is_not_a_uuid(customer_api):
    error_of(customer_api.get(transfer_url("latest")), 404, "not_found")


def test_get_transfer_answers_404_for_a_deposit_id(customer_api, mine):
    deposit = mine.entries.get().transaction

    error_of(customer_api.get(transfer_url(deposit.pk)), 404, "not_found")


def test_get_transfer_answers_404_for_someone_elses_transfer(customer_api):
    txn = send(funded_account(100), AccountFactory(), 50)

    error_of(customer_api.get(transfer_url(txn.pk)), 404, "not_found")


# --- idempotency ----------------------------------------------------------------------------


def test_idempotent_transfer_first_answer_is_not_marked_replayed(customer_api, mine, payee):
    response = customer_api.post(TRANSFERS, body(mine, payee), **key("k-1"))

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers


def test_idempotent_transfer_replay_returns_the_first_status_and_body(customer_api, mine, payee):
    first = customer_api.post(TRANSFERS, body(mine, payee), **key("k-1"))

    again = customer_api.post(TRANSFERS, body(mine, payee), **key("k-1"))

    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"


def test_idempotent_transfer_replay_posts_nothing_new(customer_api, mine, payee):
    customer_api.post(TRANSFERS, body(mine, payee, 300), **key("k-1"))
    before = ledger_rows()

    customer_api.post(TRANSFERS, body(mine, payee, 300), **key("k-1"))

    assert ledger_rows() == before
    assert (balance_of(mine), balance_of(payee)) == (700, 300)


def test_idempotent_transfer_replays_even_after_the_account_is_frozen(
    customer_api, staff, mine, payee
):
    first = customer_api.post(TRANSFERS, body(mine, payee), **key("k-1"))
    services.freeze_account(account=mine, reason="review", by=staff)

    again = customer_api.post(TRANSFERS, body(mine, payee), **key("k-1"))

    assert (again.status_code, again.json()) == (201, first.json())


def test_idempotent_transfer_with_another_body_is_a_409(customer_api, mine, payee):
    customer_api.post(TRANSFERS, body(mine, payee, 300), **key("k-1"))

    response = customer_api.post(TRANSFERS, body(mine, payee, 301), **key("k-1"))

    error_of(response, 409, "idempotency_conflict")
    assert (balance_of(mine), balance_of(payee)) == (700, 300)


def test_idempotent_transfer_refused_with_422_stores_nothing(customer_api, mine, payee):
    response = customer_api.post(TRANSFERS, body(mine, payee, 5000), **key("k-1"))

    error_of(response, 422, "insufficient_funds")
    assert not IdempotencyKey.objects.exists()


def test_idempotent_transfer_refused_before_may_run_again_with_the_same_key(
    customer_api, mine, payee
):
    customer_api.post(TRANSFERS, body(mine, payee, 1500), **key("k-1"))
    services.deposit(account=mine, amount=1000, initiated_by=None)

    response = customer_api.post(TRANSFERS, body(mine, payee, 1500), **key("k-1"))

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers
    assert (balance_of(mine), balance_of(payee)) == (500, 1500)


def test_idempotent_transfer_refused_with_404_stores_nothing(customer_api, mine):
    sent = {"from_account": str(mine.pk), "to_account_number": new_account_number(), "amount": 1}

    customer_api.post(TRANSFERS, sent, **key("k-1"))

    assert not IdempotencyKey.objects.exists()


def test_idempotent_transfer_keys_belong_to_one_user(customer_api, mine, payee):
    other_user = UserFactory()
    theirs = account_for(other_user, amount=1000)
    customer_api.post(TRANSFERS, body(mine, payee, 300), **key("shared"))

    response = bearer(other_user).post(TRANSFERS, body(theirs, payee, 200), **key("shared"))

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers
    assert balance_of(payee) == 500


@pytest.mark.parametrize("value", ["", "k" * 256, "a\x00b", "tab\there"], ids=repr)
def test_idempotent_transfer_refuses_a_bad_key_with_400(customer_api, mine, payee, value):
    before = ledger_rows()

    response = customer_api.post(TRANSFERS, body(mine, payee), **key(value))

    assert "Idempotency-Key" in error_of(response, 400, "validation_error")
    assert ledger_rows() == before


def test_idempotent_transfer_accepts_a_key_of_255_characters(customer_api, mine, payee):
    response = customer_api.post(TRANSFERS, body(mine, payee), **key("k" * 255))

    assert response.status_code == 201


def test_idempotent_transfer_key_older_than_the_ttl_may_be_reused(customer_api, mine, payee):
    customer_api.post(TRANSFERS, body(mine, payee, 300), **key("k-1"))
    expired = datetime.now(UTC) - settings.IDEMPOTENCY_KEY_TTL - timedelta(minutes=1)
    IdempotencyKey.objects.update(created_at=expired)

    response = customer_api.post(TRANSFERS, body(mine, payee, 200), **key("k-1"))

    assert response.status_code == 201
    assert (balance_of(mine), balance_of(payee)) == (500, 500)


def test_idempotent_transfer_key_younger_than_the_ttl_still_conflicts(customer_api, mine, payee):
    customer_api.post(TRANSFERS, body(mine, payee, 300), **key("k-1"))
    young = datetime.now(UTC) - settings.IDEMPOTENCY_KEY_TTL + timedelta(minutes=5)
    IdempotencyKey.objects.update(created_at=young)

    response = customer_api.post(TRANSFERS, body(mine, payee, 200), **key("k-1"))

    error_of(response, 409, "idempotency_conflict")


def test_transfer_without_a_key_runs_every_time(customer_api, mine, payee):
    customer_api.post(TRANSFERS, body(mine, payee, 300))

    customer_api.post(TRANSFERS, body(mine, payee, 300))

    assert balance_of(payee) == 600
