"""The dashboard's reads stay the same size however long a history grows: recent activity reads
a few entries per account, and a chart reads one point per step of time (the step's last
balance) instead of every entry of six months."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from conftest import signed_in
from ledger import services
from ledger.charts import charts_for
from ledger.models import Account, Entry
from ledger.selectors import accounts_for, balance_points, recent_entries_for, step_for
from ledger.tests.factories import AccountFactory, account_for, clock, send

pytestmark = pytest.mark.django_db


def opened(user, *, ago: timedelta, **kw) -> Account:
    return AccountFactory(holder=user.holder, created_at=timezone.now() - ago, **kw)


def move(account: Account, amount: int, at: datetime) -> None:
    with clock(at):
        if amount > 0:
            services.deposit(account=account, amount=amount, initiated_by=None)
        else:
            services.withdraw(account=account, amount=-amount, initiated_by=None)


def test_step_for_is_the_finest_step_with_at_most_so_many_of_them():
    start = datetime(2026, 1, 1, tzinfo=UTC)

    assert step_for(start, start + timedelta(hours=16), most=1000) == "minute"
    assert step_for(start, start + timedelta(days=41), most=1000) == "hour"
    assert step_for(start, start + timedelta(days=42), most=1000) == "day"
    assert step_for(start, start + timedelta(days=5000), most=1000) == "day"


def test_a_chart_point_is_each_days_last_balance_and_the_extremes_count_every_entry(customer):
    account = opened(customer, ago=timedelta(days=150))
    day = (timezone.now() - timedelta(days=100)).replace(hour=0, minute=0, second=0)
    move(account, 10_000, day + timedelta(hours=10))
    move(account, -9_000, day + timedelta(days=1, hours=9))
    move(account, 50_000, day + timedelta(days=1, hours=12))
    move(account, -20_000, day + timedelta(days=1, hours=15))
    since = day - timedelta(days=10)

    series = balance_points([account], since=since, until=timezone.now(), most=1000)[account.pk]

    assert series.opening == 0
    assert series.points == [
        (day + timedelta(hours=10), 10_000),
        (day + timedelta(days=1, hours=15), 31_000),
    ]
    assert (series.low, series.high) == (0, 51_000)


def test_chart_points_start_from_the_balance_before_the_window(customer):
    account = opened(customer, ago=timedelta(days=300))
    long_ago = timezone.now() - timedelta(days=250)
    move(account, 7_000, long_ago)
    move(account, -2_000, long_ago + timedelta(days=1))
    recently = timezone.now() - timedelta(days=3)
    move(account, -1_000, recently)

    chart = charts_for([account])[account.pk]

    assert (chart.opening, chart.closing, chart.low, chart.high) == (5_000, 4_000, 4_000, 5_000)
    assert "highest EUR 50.00, lowest EUR 40.00" in chart.summary


def test_each_account_is_charted_in_steps_of_its_own_length(customer):
    old = opened(customer, ago=timedelta(days=150))
    young = opened(customer, ago=timedelta(hours=3))
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    for minute in (1, 2, 3):  # three minutes of one hour of one day
        move(old, 1_000, hour + timedelta(minutes=minute))
        move(young, 1_000, hour + timedelta(minutes=minute, seconds=30))

    series = balance_points(
        [old, young], since=timezone.now() - timedelta(days=183), until=timezone.now(), most=1000
    )

    assert series[old.pk].points == [(hour + timedelta(minutes=3), 3_000)]  # one day
    assert [balance for _, balance in series[young.pk].points] == [1_000, 2_000, 3_000]
    assert (series[old.pk].low, series[old.pk].high) == (0, 3_000)


def test_dashboard_reads_as_many_queries_and_draws_as_many_steps_for_500_entries_as_for_10(db):
    first_day = (timezone.now() - timedelta(days=20)).replace(hour=0, minute=0, second=0)

    def dashboard_of(entries: int) -> tuple[int, str]:
        """A customer whose account was paid once, then paid out `entries` times over five
        days (in time order, as the ledger posts); the dashboard's query count and chart."""
        user = UserFactory()
        account = opened(user, ago=timedelta(days=150))
        move(account, 10**9, first_day)
        for i in range(entries):
            day, minute = divmod(i, entries // 5)
            move(account, -1 - i % 7, first_day + timedelta(days=1 + day, minutes=minute))
        browser = signed_in(user)
        browser.get("/dashboard/")  # a session's first request reads more (the session, caches)
        with CaptureQueriesContext(connection) as captured:
            response = browser.get("/dashboard/")
        assert response.status_code == 200
        assert Entry.objects.filter(account=account).count() == 1 + entries
        return len(captured), response.context["accounts"][0][1].line

    few, few_line = dashboard_of(10)
    many, many_line = dashboard_of(500)

    assert many == few
    assert many_line.count("V") == few_line.count("V") == 6  # the deposit, then five days


def test_recent_activity_is_the_newest_across_accounts_ties_broken_by_id(customer):
    busy = account_for(customer, nickname="Busy")
    quiet = account_for(customer, nickname="Quiet")
    saving = account_for(customer, nickname="Saving")
    now = timezone.now()
    move(busy, 100_000, now - timedelta(hours=5))
    move(quiet, 500, now - timedelta(hours=5))
    with clock(now - timedelta(hours=3)):  # a dozen entries at one moment on one account
        for _ in range(12):
            services.withdraw(account=busy, amount=10, initiated_by=None)
    move(quiet, -100, now - timedelta(hours=4))
    with clock(now - timedelta(hours=2)):  # two entries at one moment on two accounts
        send(busy, saving, 2_500)
    everything = list(
        Entry.objects.filter(account__holder__user=customer).order_by("-created_at", "-id")
    )

    accounts = list(accounts_for(customer))

    for limit in (1, 3, 8, 10, 20):
        recent = recent_entries_for(accounts, limit=limit)

        assert [e.pk for e in recent] == [e.pk for e in everything[:limit]]
    assert recent_entries_for(accounts, limit=0) == []
    assert recent_entries_for([], limit=10) == []


def test_recent_activity_is_of_the_accounts_given_only(customer):
    mine = account_for(customer, amount=1_000)
    theirs = AccountFactory()
    send(mine, theirs, 100)

    recent = recent_entries_for(list(accounts_for(customer)), limit=10)

    assert [entry.account_id for entry in recent] == [mine.pk, mine.pk]  # the payment, the deposit
