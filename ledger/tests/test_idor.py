"""Another customer's objects do not exist for you: every path and verb answers someone else's
id exactly as it answers an id that was never issued (a 404 where the verb is served), never a
403 and never their data; and lists never carry their rows."""

import uuid

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import UserFactory
from conftest import bearer
from ledger.models import AccountStatusChange
from ledger.tests.api import ACCOUNTS, TRANSFERS, account_url, action_url, error_of, transfer_url
from ledger.tests.factories import (
    AccountFactory,
    account_for,
    balance_of,
    funded_account,
    ledger_rows,
    send,
)

pytestmark = pytest.mark.django_db

ACCOUNT_PROBES = [
    ("get", ""),
    ("patch", ""),
    ("get", "transactions"),
]
STAFF_PROBES = ["deposits", "withdrawals", "freeze", "unfreeze", "close"]
BODY = {"nickname": "pwned", "amount": 100, "reason": "pwned", "description": "pwned"}


@pytest.fixture
def victim():
    return UserFactory()


@pytest.fixture
def victims_account(victim):
    account = account_for(victim, amount=5000, nickname="Victim savings")
    send(account, AccountFactory(), 700, description="Victim rent")
    return account


@pytest.fixture
def victims_transfer(victims_account):
    return send(victims_account, AccountFactory(), 300, description="Victim secret")


@pytest.fixture(params=["login token", "token without holder claim"])
def attacker_api(request, customer, customer_api):
    """The attacker's API client, with the token a login gives (its `hid` claim: the account
    reads filter on the holder id) and with one that has no holder claim (the reads join
    through the holder to the user): both forms of the ownership rule answer the same."""
    account_for(customer, amount=1000)
    if request.param == "login token":
        return customer_api
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(customer)}")
    return client


def url_for(account_id, action: str) -> str:
    return action_url(account_id, action) if action else account_url(account_id)


def assert_untouched(account, *, balance: int = 4300):
    account.refresh_from_db()
    assert (account.balance, account.status, account.nickname) == (
        balance,
        "active",
        "Victim savings",
    )
    assert not AccountStatusChange.objects.filter(account=account).exists()


@pytest.mark.parametrize(("method", "action"), ACCOUNT_PROBES)
def test_account_endpoint_answers_404_for_someone_elses_account(
    attacker_api, victims_account, method, action
):
    response = getattr(attacker_api, method)(url_for(victims_account.pk, action), BODY)

    error_of(response, 404, "not_found")
    assert "Victim" not in response.content.decode()
    assert_untouched(victims_account)


@pytest.mark.parametrize(
    ("method", "action"),
    [
        *ACCOUNT_PROBES,
        ("put", ""),
        ("delete", ""),
        ("options", ""),
        ("head", ""),
        ("post", ""),
        ("post", "transactions"),
        *[("post", action) for action in STAFF_PROBES],
        *[("get", action) for action in STAFF_PROBES],
    ],
)
def test_account_endpoint_answers_someone_elses_id_as_an_unknown_id(
    attacker_api, victims_account, method, action
):
    unknown = getattr(attacker_api, method)(url_for(uuid.uuid4(), action), BODY)

    response = getattr(attacker_api, method)(url_for(victims_account.pk, action), BODY)

    assert (response.status_code, response.content) == (unknown.status_code, unknown.content)
    assert_untouched(victims_account)


@pytest.mark.parametrize("action", STAFF_PROBES)
def test_staff_endpoint_refuses_a_customer_the_same_for_any_account(
    attacker_api, victims_account, action
):
    before = ledger_rows()

    response = attacker_api.post(action_url(victims_account, action), BODY)

    error_of(response, 403, "permission_denied")
    assert ledger_rows() == before
    assert_untouched(victims_account)


def test_transfer_from_someone_elses_account_answers_404_and_moves_nothing(
    customer, attacker_api, victims_account
):
    mine = customer.holder.accounts.get()
    before = ledger_rows()

    response = attacker_api.post(
        TRANSFERS,
        {"from_account": str(victims_account.pk), "to_account_number": mine.number, "amount": 1},
    )

    error_of(response, 404, "not_found")
    assert ledger_rows() == before
    assert (balance_of(victims_account), balance_of(mine)) == (4300, 1000)


def test_transfer_from_someone_elses_account_with_their_key_answers_404(
    victim, customer, attacker_api, victims_account
):
    mine = customer.holder.accounts.get()
    sent = {"from_account": str(victims_account.pk), "to_account_number": mine.number}
    bearer(victim).post(TRANSFERS, {**sent, "amount": 1}, HTTP_IDEMPOTENCY_KEY="k")

    response = attacker_api.post(TRANSFERS, {**sent, "amount": 1}, HTTP_IDEMPOTENCY_KEY="k")

    error_of(response, 404, "not_found")


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete", "post", "options"])
def test_transfer_detail_answers_someone_elses_transfer_as_an_unknown_one(
    attacker_api, victims_transfer, method
):
    unknown = getattr(attacker_api, method)(transfer_url(uuid.uuid4()), BODY)

    response = getattr(attacker_api, method)(transfer_url(victims_transfer.pk), BODY)

    assert (response.status_code, response.content) == (unknown.status_code, unknown.content)
    assert "Victim" not in response.content.decode()


def test_transfer_detail_answers_404_for_someone_elses_transfer(attacker_api, victims_transfer):
    response = attacker_api.get(transfer_url(victims_transfer.pk))

    error_of(response, 404, "not_found")


def test_transfer_detail_answers_404_for_someone_elses_deposit(attacker_api, victims_account):
    deposit = victims_account.entries.filter(transaction__kind="deposit").get().transaction

    error_of(attacker_api.get(transfer_url(deposit.pk)), 404, "not_found")


def test_account_list_never_carries_someone_elses_accounts(customer, attacker_api, victims_account):
    rows = attacker_api.get(f"{ACCOUNTS}?limit=100").json()["results"]

    assert [r["id"] for r in rows] == [str(customer.holder.accounts.get().pk)]


def test_transfer_list_never_carries_someone_elses_transfers(attacker_api, victims_transfer):
    rows = attacker_api.get(f"{TRANSFERS}?limit=100").json()["results"]

    assert rows == []


def test_transfer_list_ignores_a_filter_naming_someone_elses_account(
    attacker_api, victims_account, victims_transfer
):
    url = f"{TRANSFERS}?from_account={victims_account.pk}&account={victims_account.pk}"

    rows = attacker_api.get(url).json()["results"]

    assert rows == []


def test_received_transfer_does_not_reveal_the_senders_account_id(
    customer, attacker_api, victims_account
):
    mine = customer.holder.accounts.get()
    send(victims_account, mine, 100)

    row = attacker_api.get(TRANSFERS).json()["results"][0]

    assert row["direction"] == "received"
    assert str(victims_account.pk) not in str(row)


def test_history_of_my_account_does_not_reveal_the_payers_account_id(
    customer, attacker_api, victims_account
):
    mine = customer.holder.accounts.get()
    send(victims_account, mine, 100)

    response = attacker_api.get(action_url(mine, "transactions"))

    assert str(victims_account.pk) not in response.content.decode()


def test_session_login_sees_someone_elses_account_as_404(customer, victims_account):
    client = APIClient()
    client.force_login(customer)

    response = client.get(account_url(victims_account))

    error_of(response, 404, "not_found")


@pytest.mark.parametrize("action", ["", "transactions"])
def test_staff_sees_a_customers_account_as_404_on_customer_endpoints(staff_api, action):
    account = funded_account(100)

    response = staff_api.get(url_for(account.pk, action))

    error_of(response, 404, "not_found")
