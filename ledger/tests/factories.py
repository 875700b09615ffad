"""Factories and helpers for ledger tests. Money only ever arrives through the services
(`funded_account` deposits); no test sets a balance by hand except to prove a check fails."""

from datetime import datetime

import factory
from factory.django import DjangoModelFactory

from accounts.tests.factories import HolderFactory, UserFactory
from ledger import services
from ledger.clock import posting_time
from ledger.models import Account, Entry, Transaction
from ledger.numbers import new_account_number


class AccountFactory(DjangoModelFactory):
    """A customer's active, empty EUR checking account."""

    class Meta:
        model = Account

    holder = factory.SubFactory(HolderFactory)
    number = factory.LazyFunction(new_account_number)
    type = Account.Type.CHECKING
    currency = "EUR"
    nickname = factory.Sequence(lambda n: f"Account {n}")


def funded_account(amount: int, currency: str = "EUR", **kw) -> Account:
    """A customer account holding `amount` minor units, deposited through the ledger."""
    account = AccountFactory(currency=currency, **kw)
    services.deposit(account=account, amount=amount, initiated_by=None)
    account.refresh_from_db()
    return account


def account_for(user, *, amount: int = 0, currency: str = "EUR", **kw) -> Account:
    """An account owned by `user` (who already has a holder), funded when `amount` > 0."""
    holder = user.holder
    if amount:
        return funded_account(amount, currency=currency, holder=holder, **kw)
    return AccountFactory(currency=currency, holder=holder, **kw)


def frozen_account(amount: int = 0, **kw) -> Account:
    account = funded_account(amount, **kw) if amount else AccountFactory(**kw)
    return services.freeze_account(account=account, reason="test", by=None)


def closed_account(**kw) -> Account:
    account = AccountFactory(**kw)
    return services.close_account(account=account, reason="test", by=None)


def send(
    source: Account, destination: Account, amount: int, *, initiated_by=None, **kw
) -> Transaction:
    """A transfer from `source` to `destination`'s number, by the source's owner unless told."""
    return services.transfer(
        from_account=source.pk,
        to_account_number=destination.number,
        amount=amount,
        initiated_by=initiated_by or source.holder.user,
        **kw,
    )


def clock(moment: datetime):
    """Post with the ledger's clock at `moment` (for history windows); nothing else moves.
    Post in chronological order per account, as the ledger itself does."""
    return posting_time(moment)


def balance_of(account: Account) -> int:
    """The balance by the books: a bank account's shards included (Account.ledger_balance)."""
    account.refresh_from_db()
    return account.ledger_balance()


def ledger_rows() -> tuple[int, int]:
    """(transactions, entries): compared before and after a refusal to prove nothing was written."""
    return Transaction.objects.count(), Entry.objects.count()


__all__ = [
    "AccountFactory",
    "HolderFactory",
    "UserFactory",
    "account_for",
    "balance_of",
    "clock",
    "closed_account",
    "frozen_account",
    "funded_account",
    "ledger_rows",
    "send",
]
