"""User-scoped reads of the ledger. A customer reaches entries and transfers only through
their own accounts."""

from datetime import datetime
from uuid import UUID

from django.db.models import Q, QuerySet

from accounts.models import Account, User
from bankproject.errors import NotFound
from ledger.models import Entry, Transaction


def entries_for(
    account: Account, *, since: datetime | None = None, until: datetime | None = None
) -> QuerySet[Entry]:
    """An account's history, newest first; `until` is exclusive."""
    entries = Entry.objects.filter(account=account)
    if since is not None:
        entries = entries.filter(created_at__gte=since)
    if until is not None:
        entries = entries.filter(created_at__lt=until)
    return entries.select_related("transaction", "counterparty__holder").order_by(
        "-created_at", "-id"
    )


def transfers_for(user: User) -> QuerySet[Entry]:
    """Transfers the user sent or received, one row per transfer, as the user's own entry.

    A transfer between two of the user's own accounts shows once, as sent: its credit leg
    is left out."""
    return (
        Entry.objects.filter(
            account__holder__user=user, transaction__kind=Transaction.Kind.TRANSFER
        )
        .exclude(Q(amount__gt=0) & Q(counterparty__holder__user=user))
        .select_related("transaction__reversed_by", "account", "counterparty__holder")
        .order_by("-created_at", "-id")
    )


def transfer_get(*, user: User, id: UUID) -> Entry:
    if entry := transfers_for(user).filter(transaction_id=id).first():
        return entry
    raise NotFound()
