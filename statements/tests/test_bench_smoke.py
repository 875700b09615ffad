"""`python -m bench statements`'s bulk load writes a valid ledger (ledger_check proves it), with
the timed months holding exactly the entries asked for. No timing is asserted."""

import random
from argparse import Namespace
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from bench.statements import _times, build, format_row
from ledger.checks import check_ledger
from ledger.models import Entry
from statements.periods import Period
from statements.selectors import statement_content

pytestmark = pytest.mark.django_db


def test_times_are_distinct_sorted_and_inside_the_window():
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)

    times = _times(500, start, end, random.Random(1))

    assert times == sorted(set(times))
    assert start <= times[0] and times[-1] < end


def test_the_bulk_load_is_a_valid_ledger_with_the_months_asked_for():
    now = timezone.now()
    args = Namespace(entries=300, small=120, month_entries=25, years=2)

    accounts = build(args, now)

    assert check_ledger().ok
    large, small = accounts["large"], accounts["small"]
    assert Entry.objects.filter(account=large).count() == 300
    assert Entry.objects.filter(account=small).count() == 120
    for period in (Period.of(now), Period.of(now).previous()):
        for account in (large, small):
            statement = statement_content(account, period)
            assert statement["entry_count"] == 25
            assert (
                statement["opening_balance"]
                + statement["total_credits"]
                - statement["total_debits"]
                == statement["closing_balance"]
            )
    large.refresh_from_db()
    assert statement_content(large, Period.of(now))["closing_balance"] == large.balance


def test_format_row_prints_percentiles_and_the_ratio():
    line = format_row(("2026-12 open (live)", "json", [10.0, 20.0], [10.0, 10.0]))

    assert "ratio p50 1.50" in line and "p95" in line
