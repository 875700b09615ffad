"""The database keeps issued statements as issued."""

import pytest
from django.db import DatabaseError, IntegrityError, transaction

from statements import services
from statements.errors import OpenPeriodError
from statements.models import Statement
from statements.periods import Period
from statements.tests.helpers import at, deposit, opened

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued():
    account = opened(at(2026, 1, 5))
    deposit(account, 1_000, at(2026, 1, 6))
    statement, new = services.issue_statement(account=account, period=Period(2026, 1))
    assert new
    return statement


def test_an_issued_statement_cannot_be_updated(issued):
    with pytest.raises(DatabaseError), transaction.atomic():
        Statement.objects.filter(pk=issued.pk).update(closing_balance=0, total_credits=0)


def test_an_issued_statement_cannot_be_issued_twice(issued):
    again, new = services.issue_statement(account=issued.account, period=Period(2026, 1))

    assert not new and again.pk == issued.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        Statement.objects.create(
            **{
                f.attname: getattr(issued, f.attname)
                for f in Statement._meta.fields
                if f.name != "id"
            }
        )


def test_the_totals_must_add_up():
    account = opened(at(2026, 1, 5))
    with pytest.raises(IntegrityError), transaction.atomic():
        Statement.objects.create(
            account=account,
            period="2026-01",
            currency="EUR",
            opening_balance=0,
            closing_balance=5,
            total_credits=3,
            total_debits=0,
            entry_count=1,
            content="{}",
            sha256="0" * 64,
            issued_at=at(2026, 2, 1),
        )


def test_the_open_month_cannot_be_issued():
    from django.utils import timezone

    account = opened(at(2026, 1, 5))
    with pytest.raises(OpenPeriodError):
        services.issue_statement(account=account, period=Period.of(timezone.now()))
    assert not Statement.objects.exists()


def test_the_auditor_reads_statements_in_the_admin_and_changes_nothing(auditor, issued):
    from conftest import signed_in

    client = signed_in(auditor)

    assert client.get("/admin/statements/statement/").status_code == 200
    page = client.get(f"/admin/statements/statement/{issued.pk}/change/")
    assert page.status_code == 200
    assert issued.sha256 in page.content.decode()
    assert client.post(f"/admin/statements/statement/{issued.pk}/delete/").status_code == 403


def test_a_teller_does_not_see_statements_in_the_admin(teller):
    from conftest import signed_in

    assert signed_in(teller).get("/admin/statements/statement/").status_code == 403
