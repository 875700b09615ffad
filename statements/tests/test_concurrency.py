"""Two first requests for the same past month at once: one statement is issued, and both
callers get it (real threads on their own connections, released together)."""

import pytest

from conftest import bearer
from ledger.tests.test_concurrency import run_threads
from statements.models import Statement
from statements.tests.helpers import at, deposit, opened

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_first_requests_issue_one_statement_and_agree(customer):
    account = opened(at(2026, 1, 5), holder=customer.holder)
    for day in range(6, 26):
        deposit(account, 100 * day, at(2026, 1, day))
    url = f"/api/v1/accounts/{account.pk}/statements/2026-01/"

    results = run_threads(6, lambda i: bearer(customer).get(url, {"format": "csv"}))

    assert [kind for kind, _ in results] == ["ok"] * 6, results
    assert {response.status_code for _, response in results} == {200}
    assert len({response.content for _, response in results}) == 1
    assert Statement.objects.filter(account=account, period="2026-01").count() == 1
