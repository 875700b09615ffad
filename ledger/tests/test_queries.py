"""No N+1: a list endpoint costs the same number of queries for 2 rows as for 30."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger import services
from ledger.tests.api import ACCOUNTS, TRANSFERS, action_url
from ledger.tests.factories import AccountFactory, account_for, funded_account, send

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
