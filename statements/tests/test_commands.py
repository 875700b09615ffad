from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from statements.models import Statement
from statements.periods import Period
from statements.tests.helpers import at, deposit, opened

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("generate_statements", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_generate_statements_issues_every_account_that_existed_in_the_month_once():
    first = opened(at(2026, 1, 5))
    second = opened(at(2026, 2, 28, 23, 59))
    opened(at(2026, 3, 1))  # opened after February: no statement
    deposit(first, 1_000, at(2026, 2, 3))

    out, err = run("--month", "2026-02")

    assert "issued 2 statement(s); 0 already issued" in out
    assert "Statements 2026-02" in err  # the progress bar
    statements = {s.account_id: s for s in Statement.objects.filter(period="2026-02")}
    assert set(statements) == {first.pk, second.pk}
    assert statements[first.pk].closing_balance == 1_000
    assert statements[second.pk].entry_count == 0


def test_generate_statements_a_second_time_changes_nothing():
    account = opened(at(2026, 1, 5))
    deposit(account, 1_000, at(2026, 1, 6))
    run("--month", "2026-01")
    before = list(Statement.objects.values())

    deposit(account, 5, at(2026, 1, 31, 12))  # even if the ledger (backdated) moved since
    out, _ = run("--month", "2026-01")

    assert "issued 0 statement(s); 1 already issued" in out
    assert list(Statement.objects.values()) == before


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "26-01", ""])
def test_generate_statements_refuses_a_malformed_month(month):
    with pytest.raises(CommandError, match="YYYY-MM"):
        run("--month", month)


def test_generate_statements_refuses_the_current_month():
    with pytest.raises(CommandError, match="still open"):
        run("--month", str(Period.of(timezone.now())))
    assert not Statement.objects.exists()
