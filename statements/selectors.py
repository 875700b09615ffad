"""Statement reads, scoped to the caller through the ledger's own selectors: another
customer's account is a 404 before any statement is looked at.

A statement is computed from the immutable entries, never by re-summing history: the opening
balance is the `balance_after` of the last entry before the month (one index probe on
`entry_account_history`), then the month's entries in posting order, each carrying its running
balance. The ordering is the ledger's own (`ledger.selectors.entries_for`, reversed). Both read
the server the account was read from (core/db_router.py: the replica on a read-only request
when it is allowed; the primary inside the issuing transaction)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from rest_framework import serializers

from accounts.models import User, holder_name
from core.db_router import same_db
from core.errors import NotFound, ValidationFailed
from ledger.models import Account, Entry
from ledger.selectors import account_get, entries_for
from ledger.serializers import counterparty
from statements.models import Statement
from statements.periods import FORMAT_HELP, Period, periods_between

OPEN = "open"
ISSUED = "issued"


@dataclass(frozen=True)
class StatementView:
    """A statement as the API, the page, the CSV and the PDF show it: the canonical content,
    with whether it is `open` (the current month, live) or `issued` (fixed, with its hash)."""

    content: dict[str, Any]
    status: str
    sha256: str | None = None
    issued_at: datetime | None = None


@dataclass(frozen=True)
class PeriodRow:
    period: Period
    status: str


def statement_account_get(*, user: User, id: UUID) -> Account:
    """The caller's own account with its holder (the statement's addressee), or a 404."""
    account = account_get(user=user, id=id)
    account.holder  # noqa: B018 - one query now, for the PDF's addressee
    return account


def current_period(now: datetime) -> Period:
    return Period.of(now)


def periods_for(account: Account, *, now: datetime) -> list[PeriodRow]:
    """Every month from the account's opening month to the current one, newest first."""
    current = current_period(now)
    return [
        PeriodRow(period, OPEN if period.is_open(now) else ISSUED)
        for period in periods_between(Period.of(account.created_at), current)
    ]


def period_get(account: Account, text: str, *, now: datetime) -> Period:
    """A period of this account's: malformed is a 400, before the opening month or after the
    current month a 404."""
    try:
        period = Period.parse(text)
    except ValueError:
        raise ValidationFailed({"period": [FORMAT_HELP]}) from None
    if not Period.of(account.created_at) <= period <= current_period(now):
        raise NotFound("This account has no statement for that month.")
    return period


def opening_balance(account: Account, period: Period) -> int:
    """The running balance when the month began: the last `balance_after` before it (0 before
    the first entry)."""
    before = (
        Entry.objects.using(same_db(account))
        .filter(account=account, created_at__lt=period.start)
        .order_by("-created_at", "-id")
        .values_list("balance_after", flat=True)
        .first()
    )
    return before or 0


def month_entries(account: Account, period: Period) -> QuerySet[Entry]:
    """The month's entries in posting order: the ledger's history order, oldest first."""
    return entries_for(account, since=period.start, until=period.end).reverse()


# What a statement line shows, in the order `entry_line` takes it: the entry, its transaction
# and the other leg's account with its holder (outer joins: an entry may have no counterparty,
# the bank's own accounts have no holder).
LINE_COLUMNS = (
    "id",
    "transaction_id",
    "transaction__kind",
    "amount",
    "currency",
    "balance_after",
    "transaction__description",
    "counterparty__type",
    "counterparty__number",
    "counterparty__holder__first_name",
    "counterparty__holder__last_name",
    "created_at",
)


def month_rows(account: Account, period: Period) -> QuerySet:
    """The month's entries as tuples of `LINE_COLUMNS`, in posting order. Rows, not models: an
    Entry, its Transaction, the counterparty's Account and its Holder built for each of a
    month's thousand entries were most of a live statement's time."""
    return month_entries(account, period).values_list(*LINE_COLUMNS)


# The history API's format, in UTC: a statement's months are UTC months, and its times must
# not depend on a timezone a request might activate (pinned, it also skips a per-value look-up
# of the current timezone).
_TIME = serializers.DateTimeField(default_timezone=UTC)


def entry_line(
    entry_id: UUID,
    transaction_id: UUID,
    kind: str,
    amount: int,
    currency: str,
    balance_after: int,
    description: str,
    other_type: str | None,
    other_number: str | None,
    other_first_name: str | None,
    other_last_name: str | None,
    created_at: datetime,
) -> dict[str, Any]:
    """One entry, from a row of `LINE_COLUMNS`, exactly as the history API shows it
    (`ledger.serializers.EntryOutput`; both name the counterparty with
    `ledger.serializers.counterparty`), as a plain dict: a month's thousand entries through the
    serializer's per-field machinery took half of a statement's time.
    `test_entry_line_is_the_history_apis_entry` holds the two equal."""
    name = holder_name(other_first_name or "", other_last_name or "")
    return {
        "id": str(entry_id),
        "transaction_id": str(transaction_id),
        "kind": kind,
        "amount": amount,
        "currency": currency,
        "balance_after": balance_after,
        "description": description,
        "counterparty": counterparty(kind, description, other_type, other_number, name),
        "created_at": _TIME.to_representation(created_at),
    }


def statement_content(account: Account, period: Period) -> dict[str, Any]:
    """The statement's canonical content, computed from the entries. Two queries whatever the
    length of the account's history."""
    opening = opening_balance(account, period)
    entries = [entry_line(*row) for row in month_rows(account, period)]
    credits = sum(e["amount"] for e in entries if e["amount"] > 0)
    debits = -sum(e["amount"] for e in entries if e["amount"] < 0)
    closing = entries[-1]["balance_after"] if entries else opening
    holder = account.holder
    return {
        "account": str(account.pk),
        "account_number": account.number,
        "holder": {"name": holder.full_name, "address": holder.address} if holder else None,
        "period": str(period),
        "period_start": period.first_day.isoformat(),
        "period_end": period.last_day.isoformat(),
        "currency": account.currency,
        "opening_balance": opening,
        "closing_balance": closing,
        "total_credits": credits,
        "total_debits": debits,
        "entry_count": len(entries),
        "entries": entries,
    }


def issued_statement(account: Account, period: Period) -> Statement | None:
    return Statement.objects.filter(account=account, period=str(period)).first()
