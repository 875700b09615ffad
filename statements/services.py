"""Issuing statements. An issued statement is written once and never changed: a later
correction is a reversal in a later month, which that month's statement shows."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from ledger.models import Account
from statements.canonical import canonical_text, sha256_of
from statements.errors import OpenPeriodError
from statements.models import Statement
from statements.periods import Period
from statements.selectors import issued_statement, statement_content


@transaction.atomic(durable=True)
def issue_statement(*, account: Account, period: Period) -> tuple[Statement, bool]:
    """The account's statement for `period`, issued now if it was not yet: (statement, whether
    this call issued it). Idempotent; of two concurrent first requests one issues and the other
    reads what it issued."""
    now = timezone.now()
    if period.is_open(now):
        raise OpenPeriodError(f"{period} has not ended yet: its statement is still open.")
    if existing := issued_statement(account, period):
        return existing, False
    # What is issued for good is read from the primary (the caller's copy may be the replica's).
    account = Account.objects.select_related("holder").get(pk=account.pk)
    content = statement_content(account, period)
    text = canonical_text(content)
    statement = Statement(
        account=account,
        period=str(period),
        currency=content["currency"],
        opening_balance=content["opening_balance"],
        closing_balance=content["closing_balance"],
        total_credits=content["total_credits"],
        total_debits=content["total_debits"],
        entry_count=content["entry_count"],
        content=text,
        sha256=sha256_of(text),
        issued_at=now,
    )
    try:
        with transaction.atomic():
            statement.save(force_insert=True)
    except IntegrityError:  # a concurrent request issued it a moment ago
        existing = issued_statement(account, period)
        if existing is None:
            raise
        return existing, False
    return statement, True
