"""User-scoped reads of the ledger. A customer reaches entries and transfers only through
their own accounts.

The read-only ones (a customer's accounts, history, transfers, the dashboard's) read
`.using(read_db(user))`: the replica when core/db_router.py allows it, else the primary. The
ones a write depends on (the payee, the staff's account) always read the primary."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.db.models import (
    Case,
    DateTimeField,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
    Window,
)
from django.db.models.functions import RowNumber, Trunc

from accounts.models import User
from core.db_router import read_db, same_db
from core.errors import NotFound
from ledger.models import Account, ApprovalRequest, Entry, LedgerCheckRun, Transaction
from ledger.permissions import may


def accounts_for(user: User) -> QuerySet[Account]:
    """The caller's own accounts: the only accounts a customer can address by id."""
    return Account.objects.held_by(user).using(read_db(user))


def account_get(*, user: User, id: UUID) -> Account:
    try:
        return accounts_for(user).get(id=id)  # at most one row: no ordering, no second query
    except Account.DoesNotExist:
        raise NotFound() from None  # someone else's account does not exist for you


def account_get_for_staff(*, id: UUID) -> Account:
    """Staff endpoints act on any customer's account (never the bank's own)."""
    account = Account.objects.customer().select_related("holder").filter(id=id).first()
    if account is None:
        raise NotFound()
    return account


def payee_get(*, number: str) -> Account:
    """A customer account to pay into, found by its number. The payee's holder comes along,
    so a confirmation can name who will receive the money."""
    account = Account.objects.customer().select_related("holder").filter(number=number).first()
    if account is None:
        raise NotFound("No account has this number.")
    return account


def entries_for(
    account: Account, *, since: datetime | None = None, until: datetime | None = None
) -> QuerySet[Entry]:
    """An account's history, newest first; `until` is exclusive."""
    entries = Entry.objects.using(same_db(account)).filter(account=account)
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
        Entry.objects.using(read_db(user))
        .filter(account__holder__user=user, transaction__kind=Transaction.Kind.TRANSFER)
        .exclude(Q(amount__gt=0) & Q(counterparty__holder__user=user))
        .select_related("transaction", "account", "counterparty__holder")
        .order_by("-created_at", "-id")
    )


def transfer_get(*, user: User, id: UUID) -> Entry:
    if entry := transfers_for(user).filter(transaction_id=id).first():
        return entry
    raise NotFound()


def recent_entries_for(accounts: list[Account], *, limit: int = 10) -> list[Entry]:
    """The newest `limit` entries across `accounts` (already the caller's, from
    `accounts_for`), newest first, for the dashboard. Two queries that stay the same size
    however long the histories grow: each account's `limit`-th newest entry time (`limit` rows
    of the history index per account), then each account's entries from that time on, which
    hold the newest `limit` of all: an entry among those has fewer than `limit` entries ahead
    of it on its own account. The times go into the second query as values, not as a
    subquery, so that PostgreSQL plans it for the few rows it reads."""
    if not accounts or limit < 1:
        return []
    db = same_db(accounts[0])  # where the caller read them: one server for the whole page
    nth_newest = (
        Entry.objects.filter(account=OuterRef("pk"))
        .order_by("-created_at", "-id")
        .values("created_at")[limit - 1 : limit]
    )
    cutoffs = (
        Account.objects.using(db)
        .filter(pk__in=[account.pk for account in accounts])
        .order_by()
        .annotate(since=Subquery(nth_newest))
        .values_list("pk", "since")
    )
    scope = Q()
    for pk, since in cutoffs:
        # No `limit`-th entry: all of that account's few entries are candidates.
        scope |= Q(account_id=pk) if since is None else Q(account_id=pk, created_at__gte=since)
    return list(
        Entry.objects.using(db)
        .filter(scope)
        .select_related("account", "transaction", "counterparty__holder")
        .order_by("-created_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class BalanceSeries:
    """An account's balance over a window, one point per step of time (a minute, an hour or a
    day) in which money moved: the step's last `balance_after`, at the moment it was posted.
    `low` and `high` are the lowest and highest balance over the window, counting the opening
    balance and every entry (not only the steps' last ones)."""

    opening: int
    points: list[tuple[datetime, int]]
    low: int
    high: int


STEPS = (("minute", timedelta(minutes=1)), ("hour", timedelta(hours=1)), ("day", timedelta(days=1)))


def step_for(start: datetime, end: datetime, *, most: int) -> str:
    """The finest step (minute, hour, day) that cuts `start`..`end` into at most `most` of
    them; a day beyond that."""
    for kind, length in STEPS:
        if (end - start) / length <= most:
            return kind
    return "day"


def balance_points(
    accounts: list[Account], *, since: datetime, until: datetime, most: int
) -> dict[UUID, BalanceSeries]:
    """For each account (already the caller's, from `accounts_for`): its balance when `since`
    began and its balance at the end of each step from then to `until` in which money moved,
    the step being the finest that gives at most `most` of them from `since` or the account's
    opening (`step_for`); so at most `most` points per account however busy it is (a day
    each, past `most` days). Two
    queries in all: the opening balances, then every step's last entry in SQL (a window
    function), with the extremes of all of them."""
    if not accounts:
        return {}
    ids = [account.pk for account in accounts]
    db = same_db(accounts[0])  # where the caller read them: one server for the whole page
    before = Entry.objects.filter(account=OuterRef("pk"), created_at__lt=since).order_by(
        "-created_at", "-id"
    )
    opening = dict(
        Account.objects.using(db)
        .filter(pk__in=ids)
        .annotate(opening=Subquery(before.values("balance_after")[:1]))
        .values_list("pk", "opening")
    )
    steps: dict[str, list[UUID]] = {}
    for account in accounts:
        kind = step_for(max(since, account.created_at), until, most=most)
        steps.setdefault(kind, []).append(account.pk)
    if len(steps) == 1:
        (kind,) = steps
        step = Trunc("created_at", kind)
    else:  # an account opened lately, beside older ones: each in steps of its own length
        step = Case(
            *[
                When(account_id__in=pks, then=Trunc("created_at", kind))
                for kind, pks in steps.items()
            ],
            output_field=DateTimeField(),
        )
    in_step = {"partition_by": [F("account_id"), step]}
    rows = (
        Entry.objects.using(db)
        .filter(account_id__in=ids, created_at__gte=since)
        .annotate(
            newest=Window(
                RowNumber(), **in_step, order_by=[F("created_at").desc(), F("id").desc()]
            ),
            low=Window(Min("balance_after"), **in_step),
            high=Window(Max("balance_after"), **in_step),
        )
        .filter(newest=1)
        .order_by("account_id", "created_at")
        .values_list("account_id", "created_at", "balance_after", "low", "high")
    )
    points: dict[UUID, list[tuple[datetime, int]]] = {pk: [] for pk in ids}
    low: dict[UUID, int] = {}
    high: dict[UUID, int] = {}
    for account_id, created_at, balance_after, step_low, step_high in rows:
        points[account_id].append((created_at, balance_after))
        low[account_id] = min(low.get(account_id, step_low), step_low)
        high[account_id] = max(high.get(account_id, step_high), step_high)
    series = {}
    for pk in ids:
        start = opening.get(pk) or 0
        series[pk] = BalanceSeries(
            opening=start,
            points=points[pk],
            low=min(start, low.get(pk, start)),
            high=max(start, high.get(pk, start)),
        )
    return series


# --- four eyes --------------------------------------------------------------------------------


def approvals_for(user: User, *, status: str | None = None) -> QuerySet[ApprovalRequest]:
    """The requests `user` may read: every one for an approver, their own for anyone else
    (the teller who asked), none for a customer. `status` as a person sees it."""
    requests = ApprovalRequest.objects.select_related("account")
    if not (user.is_authenticated and user.is_staff):
        return requests.none()
    if not may(user, "approve"):
        requests = requests.filter(requested_by=user)
    if status is not None:
        requests = requests.with_status(status)
    return requests.order_by("-created_at", "-id")


def approval_get(*, user: User, id: UUID) -> ApprovalRequest:
    if request := approvals_for(user).filter(id=id).first():
        return request
    raise NotFound()  # another teller's request does not exist for you


# --- the back office's front page --------------------------------------------------------------


def needs_attention() -> dict:
    """What the admin's front page shows staff first: what waits for a second person, which
    accounts are frozen, and the last proof of the books."""
    return {
        "pending_approvals": ApprovalRequest.objects.with_status("pending").count(),
        "frozen_accounts": Account.objects.customer().filter(status=Account.Status.FROZEN).count(),
        "last_ledger_check": LedgerCheckRun.objects.order_by("-started_at", "-id").first(),
    }


# --- holds: an app above the ledger (cards) says which money it holds ----------------------------


@dataclass(frozen=True)
class PendingHold:
    """Money held on an account, not yet posted: shown above the history."""

    account_id: UUID
    merchant: str
    amount: int
    currency: str
    since: datetime


PendingHoldsSource = Callable[[list[UUID]], Iterable[PendingHold]]
_pending_hold_sources: list[PendingHoldsSource] = []


def register_pending_holds(source: PendingHoldsSource) -> None:
    """The cards app registers its open authorisations here (`cards.apps`): the ledger
    cannot import it."""
    if source not in _pending_hold_sources:
        _pending_hold_sources.append(source)


def pending_holds_for(accounts: Iterable[Account]) -> list[PendingHold]:
    """The open holds on `accounts` (already the caller's), newest first."""
    ids = [account.pk for account in accounts]
    if not ids:
        return []
    holds = [hold for source in _pending_hold_sources for hold in source(ids)]
    return sorted(holds, key=lambda hold: hold.since, reverse=True)
