"""Proofs of the books, each one aggregate query over the whole ledger (linear in entries),
all of them in one snapshot on PostgreSQL.

An app above the ledger that holds money (the cards app's authorisations) registers where its
open holds are with `register_hold_source`: the ledger cannot import it, but proves that each
account's cached `held` equals what those sources say is held on it."""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from uuid import UUID

from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum, Window
from django.db.models.functions import Coalesce

from ledger.models import Account, Entry, InternalBalance, Transaction

# Each source yields (account id, minor units held on it by open holds).
HoldSource = Callable[[], Iterable[tuple[UUID, int]]]
_hold_sources: list[HoldSource] = []


def register_hold_source(source: HoldSource) -> None:
    if source not in _hold_sources:
        _hold_sources.append(source)


def held_by_sources() -> dict[UUID, int]:
    totals: dict[UUID, int] = defaultdict(int)
    for source in _hold_sources:
        for account_id, amount in source():
            totals[account_id] += amount
    return totals


@dataclass
class LedgerReport:
    problems: dict[str, list[str]] = field(default_factory=dict)
    transactions: int = 0
    entries: int = 0
    accounts: int = 0

    @property
    def ok(self) -> bool:
        return not any(self.problems.values())


def check_ledger(limit: int = 50) -> LedgerReport:
    """Every proof, read from one snapshot on PostgreSQL, so that the check can run beside live
    traffic (cron) without false alarms: a proof that compares two queries (the cached `held`
    with the open holds) would otherwise see a hold placed between the two. The snapshot is a
    REPEATABLE READ, READ ONLY transaction: it takes no lock and blocks no posting. Inside a
    transaction someone else opened (a test, a caller's atomic block) the check reads in that
    one. On SQLite (one host; the embedded default) a transaction takes the write lock at its
    start (IMMEDIATE, bankproject/settings.py) and would hold every posting for the length of
    the check, so there each proof reads by itself, as before."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return _check_ledger(limit)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return _check_ledger(limit)


def _check_ledger(limit: int) -> LedgerReport:
    report = LedgerReport(
        entries=Entry.objects.count(),
        transactions=Transaction.objects.count(),
        accounts=Account.objects.count(),
    )
    problems = report.problems

    unbalanced = (
        Entry.objects.values("transaction_id", "currency")
        .annotate(total=Sum("amount"))
        .exclude(total=0)
        .order_by("transaction_id")[:limit]
    )
    problems["transactions that do not sum to zero"] = [
        f"{row['transaction_id']} {row['currency']}: {row['total']:+d}" for row in unbalanced
    ]

    # From the transactions' side, so that one with no entries at all is found too (it sums
    # to zero vacuously, and PostgreSQL's trigger only fires when an entry is written).
    lonely = (
        Transaction.objects.annotate(legs=Count("entries"))
        .filter(legs__lt=2)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    problems["transactions with fewer than two entries"] = [str(pk) for pk in lonely]

    # An account's balance by the books: its row's `balance` plus, for the bank's own accounts,
    # the sum of their InternalBalance shards (`ledger.services.post`).
    shards = Coalesce(
        Subquery(
            InternalBalance.objects.filter(account=OuterRef("pk"))
            .values("account")
            .annotate(s=Sum("amount"))
            .values("s")
        ),
        0,
    )
    # Every account's sum of entries in one pass over the entries (a grouped join, not a
    # correlated sum per account: that read the entry table through the history index, one
    # random heap read per entry, and was the slowest part of the check at a million entries),
    # and in the same statement as the balances: one snapshot, so a posting that commits
    # while the check runs can never make a balance and its entries disagree.
    differing = (
        Account.objects.annotate(books=F("balance") + shards, summed=Sum("entries__amount"))
        .annotate(summed=Coalesce(F("summed"), 0))
        .exclude(books=F("summed"))
        .order_by("number")
        .values_list("number", "books", "summed")[:limit]
    )
    problems["cached balances that differ from the sum of entries"] = [
        f"{number}: balance {books}, entries sum to {summed}" for number, books, summed in differing
    ]
    last_entry = Entry.objects.filter(account=OuterRef("pk")).order_by("-created_at", "-id")
    accounts = Account.objects.annotate(
        last_balance_after=Coalesce(Subquery(last_entry.values("balance_after")[:1]), 0),
    )
    # The bank's own accounts keep no running balance (they are posted to without a lock).
    problems["cached balances that differ from the last balance_after"] = [
        f"{a.number}: balance {a.balance}, last balance_after {a.last_balance_after}"
        for a in accounts.customer().exclude(balance=F("last_balance_after"))[:limit]
    ]
    problems["entries of the bank's own accounts with a running balance"] = [
        str(pk)
        for pk in Entry.objects.filter(
            account__type=Account.Type.INTERNAL, balance_after__isnull=False
        ).values_list("id", flat=True)[:limit]
    ]

    running = (
        Entry.objects.exclude(account__type=Account.Type.INTERNAL)
        .annotate(
            running=Window(
                Sum("amount"),
                partition_by=[F("account_id")],
                order_by=[F("created_at").asc(), F("id").asc()],
            )
        )
        .values("id", "account__number", "balance_after", "running")
    )
    # The mismatches are found by the database (Django filters on a window by wrapping it in
    # a subquery), so no row that agrees ever reaches Python.
    problems["entries whose balance_after is not the running sum"] = [
        f"entry {row['id']} on {row['account__number']}: balance_after {row['balance_after']}, "
        f"running sum {row['running']}"
        for row in running.filter(~Q(balance_after=F("running"))).order_by("id")[:limit]
    ]

    problems["customer accounts below zero"] = [
        f"{a.number}: {a.balance}" for a in Account.objects.customer().filter(balance__lt=0)[:limit]
    ]

    problems["customer accounts whose available balance is below zero"] = [
        f"{a.number}: balance {a.balance}, held {a.held}"
        for a in Account.objects.customer().filter(balance__lt=F("held"))[:limit]
    ]
    held = held_by_sources()
    cached = dict(
        Account.objects.exclude(held=0).values_list("pk", "held")
    )  # only accounts that hold something: linear in holds, not in accounts
    wrong = sorted(
        (pk for pk in set(held) | set(cached) if held.get(pk, 0) != cached.get(pk, 0)), key=str
    )[:limit]
    numbers = dict(Account.objects.filter(pk__in=wrong).values_list("pk", "number"))
    problems["held amounts that differ from the sum of open holds"] = [
        f"{numbers.get(pk, pk)}: held {cached.get(pk, 0)}, open holds sum to {held.get(pk, 0)}"
        for pk in wrong
    ]

    # One query (one snapshot): the shards and the rows are summed as of the same moment.
    by_currency = (
        Account.objects.annotate(books=F("balance") + shards)
        .values("currency")
        .annotate(total=Sum("books"))
        .exclude(total=0)
        .order_by("currency")
    )
    problems["currencies in which the bank does not sum to zero"] = [
        f"{row['currency']}: {row['total']:+d}" for row in by_currency
    ]
    entry_currency_mismatch = Entry.objects.exclude(currency=F("account__currency"))[:limit]
    problems["entries in another currency than their account"] = [
        str(entry.id) for entry in entry_currency_mismatch
    ]
    return report
