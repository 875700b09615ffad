"""`python -m bench scale` at a smoke size: it builds a valid ledger (ledger_check clean at both
checkpoints) and reports every figure it promises."""

import random

import pytest

from bench import scale


@pytest.mark.django_db(transaction=True)
def test_bench_scale_builds_a_clean_ledger_and_reports_every_figure():
    figures, checks = scale.build_and_measure(
        entries=2000, accounts=50, samples=3, host="testserver", say=lambda _m: None
    )

    assert [entries for entries, _, _ in checks] == [200, 2000]
    assert all(ok for _, _, ok in checks)
    names = [f.name for f in figures]
    assert names[0] == "history, first page (25)"
    assert names[1] == "deep account, first page (100)"
    assert names[2].startswith("deep account, page ")
    assert names[3:] == [
        "accounts list",
        "dashboard page",
        "dashboard page, deep account",
        "a month's statement",
        "a transfer (POST)",
    ]
    for figure in figures:
        if figure.name != "a month's statement" or figure.timings:
            assert len(figure.timings) == 3 and figure.queries
    text = scale.report(figures, checks)
    assert "ledger_check:" in text and "10x the entries took" in text


@pytest.mark.django_db
def test_bench_scale_keeps_running_balances_and_the_bank_unlocked():
    from ledger.checks import check_ledger
    from ledger.models import Account, Entry, InternalBalance

    ledger = scale.start_ledger(5, 60, say=lambda _m: None)
    scale.grow(ledger, 60, random.Random(1))

    assert Entry.objects.count() == 60
    assert not Entry.objects.filter(account=ledger.settlement, balance_after__isnull=False).exists()
    assert InternalBalance.objects.get(account=ledger.settlement).amount == -5 * scale.FUND
    assert Account.objects.customer().filter(balance__gt=0).count() == 5
    assert check_ledger().ok


@pytest.mark.django_db(transaction=True)
def test_bench_scale_reuse_measures_the_ledger_already_built_without_adding_to_it():
    from ledger.models import Entry

    scale.build_and_measure(
        entries=400, accounts=10, samples=1, host="testserver", say=lambda _m: None
    )
    built = Entry.objects.count()  # the build, plus the two transfers its measuring posted

    figures, checks = scale.reuse_and_measure(samples=2, host="testserver", say=lambda _m: None)

    assert [(entries, ok) for entries, _, ok in checks] == [(built, True)]
    assert Entry.objects.count() == built + 2 * 3  # only the three timed transfers, two legs each
    deep = [f for f in figures if f.name == "dashboard page, deep account"]
    assert deep and len(deep[0].timings) == 2
    assert "10x the entries" not in scale.report(figures, checks)


@pytest.mark.django_db
def test_bench_scale_reuse_refuses_a_database_without_one_built_ledger():
    with pytest.raises(SystemExit, match="exactly one earlier run"):
        scale.existing_ledger(say=lambda _m: None)
