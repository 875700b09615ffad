"""No N+1: a list endpoint costs the same number of queries for 2 rows as for 30."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger import services
from ledger.tests.api import ACCOUNTS, TRANSFERS, action_url
from ledger.tests.factories import AccountFactory, account_for, funded_account, send
from ledger.tests.sql import as_planned

pytestmark = pytest.mark.django_db


def queries_for(client, url: str, rows: int) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == rows
    return len(captured)


def with_accounts(customer, n: int) -> None:
    AccountFactory.create_batch(n, holder=customer.holder)


def with_history(customer, n: int):
    """n entries of every kind, with a different counterparty (and holder) on each transfer."""
    account = account_for(customer, amount=10_000)
    for i in range(n - 1):
        if i % 3 == 0:
            send(account, AccountFactory(), 1)
        elif i % 3 == 1:
            send(funded_account(5), account, 1)
        else:
            services.withdraw(account=account, amount=1, initiated_by=None)
    return account


def with_transfers(mine, n: int) -> None:
    """n transfers: sent to, and received from, a different customer each time."""
    for i in range(n):
        if i % 2:
            send(mine, AccountFactory(), 1)
        else:
            send(funded_account(5), mine, 1)


def test_list_accounts_query_count_is_flat(customer, customer_api):
    with_accounts(customer, 2)
    few = queries_for(customer_api, ACCOUNTS, 2)
    with_accounts(customer, 28)

    many = queries_for(customer_api, f"{ACCOUNTS}?limit=100", 30)

    assert many == few


def test_account_transactions_query_count_is_flat(customer, customer_api):
    small = with_history(customer, 2)
    few = queries_for(customer_api, f"{action_url(small, 'transactions')}?limit=100", 2)
    large = with_history(customer, 30)

    many = queries_for(customer_api, f"{action_url(large, 'transactions')}?limit=100", 30)

    assert many == few


def test_list_transfers_query_count_is_flat(customer, customer_api):
    mine = account_for(customer, amount=10_000)
    with_transfers(mine, 2)
    few = queries_for(customer_api, f"{TRANSFERS}?limit=100", 2)
    with_transfers(mine, 28)

    many = queries_for(customer_api, f"{TRANSFERS}?limit=100", 30)

    assert many == few


def test_list_transfers_query_count_is_flat_across_pages(customer, customer_api):
    with_transfers(account_for(customer, amount=10_000), 30)
    first = customer_api.get(f"{TRANSFERS}?limit=10").json()
    few = queries_for(customer_api, f"{TRANSFERS}?limit=2", 2)

    many = queries_for(customer_api, first["next"], 10)

    assert many == few


def test_an_api_read_of_my_account_filters_on_the_token_holder_without_a_join(
    customer, customer_api
):
    """The login token's `hid` claim lets the account read filter on `holder_id` alone: one
    query, no join to the holder (accounts/tokens.py, AccountQuerySet.held_by)."""
    account = account_for(customer, amount=10)

    with CaptureQueriesContext(connection) as captured:
        response = customer_api.get(f"{ACCOUNTS}{account.pk}/")

    assert response.status_code == 200, response.content
    reads = [q["sql"] for q in captured if "ledger_account" in q["sql"]]
    assert len(reads) == 1
    assert "accounts_holder" not in reads[0]


def test_held_by_gives_the_same_accounts_with_and_without_a_known_holder(customer):
    from accounts.tests.factories import UserFactory
    from ledger.models import Account

    mine = {account_for(customer).pk, account_for(customer).pk}
    account_for(UserFactory())  # someone else's
    services.settlement_account("EUR")  # the bank's own, which has no holder
    by_join = set(Account.objects.held_by(customer).values_list("pk", flat=True))

    customer.known_holder_id = customer.holder.pk
    by_holder = set(Account.objects.held_by(customer).values_list("pk", flat=True))

    assert by_join == by_holder == mine
    customer.known_holder_id = UserFactory().holder.pk  # a holder that holds nothing
    assert not Account.objects.held_by(customer).exists()


def test_an_api_transfer_with_a_key_claims_it_in_the_lock_round_trip(customer, customer_api):
    """On PostgreSQL the idempotency claim goes out with the lock, and every write of the
    posting in the next statement: two round trips between BEGIN and COMMIT. SQLite takes
    one statement per call: the claim, the lock, then the writes one by one."""
    mine = account_for(customer, amount=1_000)
    payee = AccountFactory(currency=mine.currency)
    body = {"from_account": str(mine.pk), "to_account_number": payee.number, "amount": 100}
    # The first transfer in a process compiles the lock's SQL once (posting_sql._replay).
    customer_api.post(TRANSFERS, body, format="json", HTTP_IDEMPOTENCY_KEY="compiles")

    with CaptureQueriesContext(connection) as captured:
        response = customer_api.post(
            TRANSFERS, body, format="json", HTTP_IDEMPOTENCY_KEY="one-round-trip"
        )

    assert response.status_code == 201, response.content
    sent = [as_planned(q["sql"]) for q in captured]
    statements = [sql for sql in sent if "ledger_" in (sql or "")]  # not the user's row
    claims = [i for i, sql in enumerate(statements) if "ledger_idempotencykey" in sql]
    reads = [i for i, sql in enumerate(statements) if sql.startswith("SELECT")]
    if connection.vendor == "postgresql":
        assert claims[0] == 0 and "FOR NO KEY UPDATE" in statements[0]  # claim, then lock
        assert len(statements) == 2  # ... and then the posting's writes, with the key's answer
        assert not reads
    else:
        assert claims[0] < reads[0]  # the claim alone, then the lock
        assert "ledger_account" not in statements[claims[0]]
