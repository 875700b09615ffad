"""`ledger_check` beside live card traffic (PostgreSQL): its proofs read one snapshot, so a
hold placed while the check runs never shows as a difference between the cached `held` and
the open holds (two queries of the check)."""

import threading

import pytest
from django.db import connection

from cards.tests.factories import authorize, issued_card
from ledger import checks
from ledger.models import Account

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the snapshot is PostgreSQL's")
def test_a_hold_placed_while_the_check_runs_is_no_false_alarm(monkeypatch):
    issued = issued_card(amount=10_000)
    authorize(issued, amount=1_000)
    read_the_holds = checks.held_by_sources

    def holds_then_a_merchant_authorises():
        held = read_the_holds()  # the open holds, as the check reads them

        def merchant() -> None:  # another connection, committed before the check goes on
            try:
                authorize(issued, amount=500, merchant="Night Owl")
            finally:
                connection.close()

        thread = threading.Thread(target=merchant)
        thread.start()
        thread.join()
        return held

    monkeypatch.setattr(checks, "held_by_sources", holds_then_a_merchant_authorises)

    report = checks.check_ledger()

    assert report.ok, report.problems
    monkeypatch.undo()
    assert Account.objects.get(pk=issued.card.account_id).held == 1_500  # it did commit
    assert checks.check_ledger().ok
