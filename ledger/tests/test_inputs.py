"""The ledger's input rules, each written once: the account-number validator, the idempotency
key rule and the claim built from a request, and the amount bounds the API's schema states."""

import pytest
from django.test import RequestFactory

from core.errors import ValidationFailed
from core.money import MAX_AMOUNT
from ledger.idempotency import KEY_HEADER, KEY_RULE, Idempotency, fingerprint, is_valid_key
from ledger.numbers import (
    AccountNumberError,
    check_digits,
    new_account_number,
    validate_account_number,
)

VALID = "12345678" + check_digits("12345678")


# --- account numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [VALID, f"{VALID[:4]} {VALID[4:8]} {VALID[8:]}", f"{VALID[:4]}-{VALID[4:]}", f" {VALID}\t"],
)
def test_validate_account_number_ignores_spaces_and_dashes(typed):
    assert validate_account_number(typed) == VALID


def test_validate_account_number_takes_every_number_the_bank_makes():
    for _ in range(50):
        number = new_account_number()
        assert validate_account_number(number) == number


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "1234567890",  # a wrong check digit
        VALID[:-1],
        VALID + "0",
        VALID[1] + VALID[0] + VALID[2:],  # two digits swapped
        "\u0663" * 10,  # Arabic-Indic digits: isdigit() but not ours
        "\u00b2" * 10,  # superscript two: isdigit(), int() would raise
        " " * 35 + VALID,  # longer than anyone types
        None,
        1234567890,
    ],
    ids=repr,
)
def test_validate_account_number_refuses_what_cannot_be_ours(typed):
    with pytest.raises(AccountNumberError, match="not a valid account number"):
        validate_account_number(typed)


# --- idempotency keys -------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["k", "k" * 255, "order 42/é", "a-b_c.d"])
def test_is_valid_key_takes_1_to_255_printable_characters(key):
    assert is_valid_key(key)


@pytest.mark.parametrize("key", ["", "k" * 256, "a\x00b", "tab\there", "new\nline", None, 42])
def test_is_valid_key_refuses_the_rest(key):
    assert not is_valid_key(key)


@pytest.fixture
def user():
    class User:  # from_request reads only the pk
        pk = "0b0f5c2e-0000-4000-8000-000000000001"

    return User()


def api_request(user, headers=None, data=None):
    request = RequestFactory().post("/api/v1/transfers/", headers=headers or {})
    request.user, request.data = user, data or {"amount": 100}
    return request


def test_from_request_without_a_key_makes_no_claim(user):
    assert Idempotency.from_request(api_request(user), respond=None) is None


def test_from_request_reads_the_header_and_fingerprints_the_body(user):
    request = api_request(user, {KEY_HEADER: "k1"}, {"amount": 100})

    claim = Idempotency.from_request(request, respond=None)

    assert (claim.scope, claim.key) == (f"user:{user.pk}", "k1")
    assert claim.fingerprint == fingerprint(
        method="POST", path="/api/v1/transfers/", body={"amount": 100}
    )


def test_from_request_takes_a_pages_key_and_body_instead(user):
    request = api_request(user, {KEY_HEADER: "ignored"})

    claim = Idempotency.from_request(request, key="k2", body={"amount": 7}, respond=None)

    assert claim.key == "k2"
    assert claim.fingerprint == fingerprint(
        method="POST", path="/api/v1/transfers/", body={"amount": 7}
    )


def test_from_request_may_scope_the_key_to_something_else_than_the_user(user):
    request = api_request(user, {KEY_HEADER: "k3"})

    claim = Idempotency.from_request(request, scope="card:42", respond=None)

    assert claim.scope == "card:42"


@pytest.mark.parametrize("key", ["", "k" * 256, "tab\there"], ids=repr)
def test_from_request_refuses_a_bad_key_as_a_validation_error(user, key):
    with pytest.raises(ValidationFailed) as refused:
        Idempotency.from_request(api_request(user), key=key, respond=None)

    assert refused.value.details == {KEY_HEADER: [KEY_RULE]}


# --- the schema states the amount's bounds ----------------------------------------------------


@pytest.mark.django_db
def test_the_schema_states_the_bounds_of_an_amount(api):
    schema = api.get("/api/v1/schema/", {"format": "json"}).json()

    amount = schema["components"]["schemas"]["TransferInputRequest"]["properties"]["amount"]

    assert (amount["type"], amount["minimum"], amount["maximum"]) == ("integer", 1, MAX_AMOUNT - 1)
