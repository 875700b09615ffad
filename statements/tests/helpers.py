"""Building histories for statement tests: money moves only through the ledger's services,
backdated with the ledger's clock, in time order per account."""

from datetime import UTC, datetime

from django.db import transaction

from ledger import posting_sql, services
from ledger.tests.factories import AccountFactory, clock
from statements.periods import Period


def at(year: int, month: int, day: int = 1, *rest: int) -> datetime:
    return datetime(year, month, day, *rest, tzinfo=UTC)


def opened(moment: datetime, **kw):
    """A customer account opened at `moment`."""
    return AccountFactory(created_at=moment, **kw)


def deposit(account, amount: int, moment: datetime, description: str = "Cash in"):
    with clock(moment):
        return services.deposit(
            account=account, amount=amount, initiated_by=None, description=description
        )


def withdraw(account, amount: int, moment: datetime, description: str = "Cash out"):
    with clock(moment):
        return services.withdraw(
            account=account, amount=amount, initiated_by=None, description=description
        )


def send(source, destination, amount: int, moment: datetime, description: str = "Rent"):
    with clock(moment):
        return services.transfer(
            from_account=source.pk,
            to_account_number=destination.number,
            amount=amount,
            initiated_by=source.holder.user,
            description=description,
        )


def card_payment(account, amount: int, moment: datetime, merchant: str = "Corner Cafe"):
    """A card payment as the ledger posts it (the cards app's service is another issue's)."""
    with clock(moment), transaction.atomic():
        settlement = services.settlement_account(account.currency)
        locked = posting_sql.lock_accounts(account.pk, settlement.pk)
        return services.post(
            kind="card_payment",
            legs=[(locked[account.pk], -amount), (locked[settlement.pk], amount)],
            initiated_by=None,
            description=merchant,
        )


def split(source, shares: dict, moment: datetime, description: str = "Split bill"):
    """One transfer from `source` to several accounts ({account: amount}): more than two legs,
    so no entry of it has a single counterparty."""
    with clock(moment), transaction.atomic():
        locked = posting_sql.lock_accounts(source.pk, *(a.pk for a in shares))
        return services.post(
            kind="transfer",
            legs=[(locked[source.pk], -sum(shares.values()))]
            + [(locked[a.pk], amount) for a, amount in shares.items()],
            initiated_by=None,
            description=description,
        )


def capture(account, amount: int, moment: datetime, merchant: str = "Book Nook"):
    """A card authorisation's capture as the cards app posts it: the hold placed, then
    released and posted as one card payment, in one transaction."""
    with clock(moment), transaction.atomic():
        services.place_hold(account=account, amount=amount, check=lambda _: None)
        locked = services.lock_account(account.pk)
        return services.capture_hold(account=locked, amount=amount, merchant=merchant)


def reverse(original, moment: datetime, reason: str = "Posted in error"):
    with clock(moment):
        return services.reverse(original=original, initiated_by=None, reason=reason)


def month(text: str) -> Period:
    return Period.parse(text)
