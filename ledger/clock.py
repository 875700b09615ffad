"""The ledger's clock. Postings take their time from here, so that the demo seed can write six
months of backdated history through the real services. Nothing else sets it: a customer's
posting is always made at the current time."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.utils import timezone

_posting_time: ContextVar[datetime | None] = ContextVar("ledger_posting_time", default=None)


def now() -> datetime:
    return _posting_time.get() or timezone.now()


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
