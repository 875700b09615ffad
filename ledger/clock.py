"""The ledger's clock for what is not a posting (an account's opening, an approval request),
and the one override of a posting's time: `posting_time`, so that the demo seed can write six
months of backdated history through the real services. Nothing else sets it.

A posting's time is not this clock's: `ledger.services.post` takes the database's clock after
the posting's locks are held (`ledger.posting_sql`), so that entry order is posting order
whatever the app servers' clocks say."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.utils import timezone

_posting_time: ContextVar[datetime | None] = ContextVar("ledger_posting_time", default=None)


def now() -> datetime:
    return _posting_time.get() or timezone.now()


def posting_override() -> datetime | None:
    """The time `posting_time` set, or None: a real posting, timed by the database."""
    return _posting_time.get()


@contextmanager
def posting_time(moment: datetime) -> Iterator[None]:
    """Post as if it were `moment`. The caller posts in chronological order, so that every
    account's `balance_after` stays the running sum of its entries in time order."""
    if timezone.is_naive(moment):
        raise ValueError("posting_time needs an aware datetime.")
    token = _posting_time.set(moment)
    try:
        yield
    finally:
        _posting_time.reset(token)
