"""Every write that moves or guards money. Each public service is one durable database
transaction: it locks the accounts it touches in ascending primary-key order (so two
opposite transfers cannot deadlock), re-reads them under the lock, checks the rules and
posts balanced entries. Refusals are domain errors; nothing is half-written."""

from collections import defaultdict
from collections.abc import Iterable
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Account, AccountStatusChange, Holder, User
from accounts.numbers import new_account_number
from ledger.errors import (
    AccountInactiveError,
    AlreadyReversedError,
    BalanceNotZeroError,
    CurrencyMismatchError,
    InsufficientFundsError,
    NotReversibleError,
    SameAccountError,
)
from ledger.idempotency import Idempotency
from ledger.models import Entry, Transaction

Kind = Transaction.Kind
Leg = tuple[Account, int]  # (account, signed minor units)


# --- building blocks ------------------------------------------------------------------------


def lock_accounts(*ids: UUID) -> dict[UUID, Account]:
    """SELECT ... FOR UPDATE in ascending primary-key order, one query; fresh rows."""
    rows = Account.objects.select_for_update().filter(pk__in=set(ids)).order_by("pk")
    return {account.pk: account for account in rows}


def settlement_account(currency: str) -> Account:
    """The bank's own account for a currency: the other side of cash in and out."""
    try:
        return Account.objects.get(type=Account.Type.INTERNAL, currency=currency)
    except Account.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            return Account.objects.create(
                type=Account.Type.INTERNAL,
                currency=currency,
                number=new_account_number(),
                nickname=f"Settlement {currency}",
            )
    except IntegrityError:  # created by a concurrent request a moment ago
        return Account.objects.get(type=Account.Type.INTERNAL, currency=currency)


def ensure_can_send(account: Account, amount: int) -> None:
    if not account.is_active:
        raise AccountInactiveError()
    if not account.is_internal and account.balance < amount:
        raise InsufficientFundsError()


def ensure_can_receive(account: Account, currency: str) -> None:
    if not account.is_active:
        raise AccountInactiveError()
    if account.currency != currency:
        raise CurrencyMismatchError()


def post(
    *,
    kind: str,
    legs: Iterable[Leg],
    initiated_by: User | None,
    description: str = "",
    reverses: Transaction | None = None,
    idempotency: Idempotency | None = None,
) -> Transaction:
    """Write one balanced transaction. The caller holds the locks on every leg's account."""
    legs = list(legs)
    totals: dict[str, int] = defaultdict(int)
    for account, amount in legs:
        if amount == 0:
            raise ValueError("A ledger entry cannot be zero.")
        totals[account.currency] += amount
    if len(legs) < 2 or any(totals.values()):
        raise ValueError(f"Unbalanced transaction: {dict(totals)}")

    now = timezone.now()  # taken under the locks: entry order on an account is posting order
    txn = Transaction.objects.create(
        kind=kind,
        description=description,
        initiated_by=initiated_by,
        reverses=reverses,
        created_at=now,
    )
    entries = []
    for index, (account, amount) in enumerate(legs):
        account.balance += amount
        counterparty = legs[1 - index][0] if len(legs) == 2 else None
        entries.append(
            Entry(
                transaction=txn,
                account=account,
                counterparty=counterparty,
                amount=amount,
                currency=account.currency,
                balance_after=account.balance,
                created_at=now,
            )
        )
    Entry.objects.bulk_create(entries)
    txn.posted_entries = entries  # in leg order, for the caller's response
    Account.objects.bulk_update([account for account, _ in legs], ["balance"])
    if idempotency is not None:
        idempotency.complete(txn)
    return txn


# --- accounts -------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def open_account(*, owner: User, type: str, currency: str, nickname: str = "") -> Account:
    holder, _ = Holder.objects.get_or_create(user=owner)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Account.objects.create(
                    holder=holder,
                    type=type,
                    currency=currency,
                    nickname=nickname,
                    number=new_account_number(),
                )
        except IntegrityError:  # a number collision: draw another
            continue
    raise RuntimeError("Could not draw a free account number.")


@transaction.atomic  # not durable: the admin's change form already runs in a transaction
def rename_account(*, account: Account, nickname: str) -> Account:
    Account.objects.filter(pk=account.pk).update(nickname=nickname)
    account.nickname = nickname
    return account


def _change_status(*, account: Account, to: str, reason: str, by: User | None) -> Account:
    account = lock_accounts(account.pk)[account.pk]
    if account.status == Account.Status.CLOSED:
        raise AccountInactiveError("The account is closed; closing is final.")
    if account.status != to:
        AccountStatusChange.objects.create(
            account=account, from_status=account.status, to_status=to, reason=reason, changed_by=by
        )
        account.status = to
        account.save(update_fields=["status"])
    return account


@transaction.atomic(durable=True)
def freeze_account(*, account: Account, reason: str, by: User | None) -> Account:
    """A frozen account neither sends nor receives until it is unfrozen."""
    return _change_status(account=account, to=Account.Status.FROZEN, reason=reason, by=by)


@transaction.atomic(durable=True)
def unfreeze_account(*, account: Account, reason: str, by: User | None) -> Account:
    return _change_status(account=account, to=Account.Status.ACTIVE, reason=reason, by=by)


@transaction.atomic(durable=True)
def close_account(*, account: Account, reason: str, by: User | None) -> Account:
    """Final. Only an empty account can be closed: money is never stranded in a closed one."""
    locked = lock_accounts(account.pk)[account.pk]
    if locked.status != Account.Status.CLOSED and locked.balance != 0:
        raise BalanceNotZeroError()
    return _change_status(account=locked, to=Account.Status.CLOSED, reason=reason, by=by)


# --- money ----------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def transfer(
    *,
    source: Account,
    destination: Account,
    amount: int,
    initiated_by: User,
    description: str = "",
    idempotency: Idempotency | None = None,
) -> Transaction:
    if idempotency is not None:
        idempotency.claim()
    if source.pk == destination.pk:
        raise SameAccountError()
    locked = lock_accounts(source.pk, destination.pk)
    source, destination = locked[source.pk], locked[destination.pk]
    ensure_can_send(source, amount)
    ensure_can_receive(destination, source.currency)
    return post(
        kind=Kind.TRANSFER,
        legs=[(source, -amount), (destination, amount)],
        initiated_by=initiated_by,
        description=description,
        idempotency=idempotency,
    )


@transaction.atomic(durable=True)
def deposit(
    *,
    account: Account,
    amount: int,
    initiated_by: User | None,
    description: str = "",
    idempotency: Idempotency | None = None,
) -> Transaction:
    """Cash in: the bank's settlement account pays the customer's account."""
    if idempotency is not None:
        idempotency.claim()
    bank = settlement_account(account.currency)
    locked = lock_accounts(account.pk, bank.pk)
    account, bank = locked[account.pk], locked[bank.pk]
    ensure_can_receive(account, bank.currency)
    return post(
        kind=Kind.DEPOSIT,
        legs=[(bank, -amount), (account, amount)],
        initiated_by=initiated_by,
        description=description or "Cash deposit",
        idempotency=idempotency,
    )


@transaction.atomic(durable=True)
def withdraw(
    *,
    account: Account,
    amount: int,
    initiated_by: User | None,
    description: str = "",
    idempotency: Idempotency | None = None,
) -> Transaction:
    """Cash out: the customer's account pays the bank's settlement account."""
    if idempotency is not None:
        idempotency.claim()
    bank = settlement_account(account.currency)
    locked = lock_accounts(account.pk, bank.pk)
    account, bank = locked[account.pk], locked[bank.pk]
    ensure_can_send(account, amount)
    return post(
        kind=Kind.WITHDRAWAL,
        legs=[(account, -amount), (bank, amount)],
        initiated_by=initiated_by,
        description=description or "Cash withdrawal",
        idempotency=idempotency,
    )


@transaction.atomic(durable=True)
def reverse(*, original: Transaction, initiated_by: User | None, reason: str) -> Transaction:
    """Staff correction: a new transaction with every leg of the original negated. The
    original stays as it was; a customer account must still hold the money to give back."""
    if original.kind == Kind.REVERSAL:
        raise NotReversibleError()
    legs = list(original.entries.values_list("account_id", "amount"))
    locked = lock_accounts(*(account_id for account_id, _ in legs))
    if Transaction.objects.filter(reverses=original).exists():
        raise AlreadyReversedError()
    for account_id, amount in legs:
        account = locked[account_id]
        if account.status == Account.Status.CLOSED:
            raise AccountInactiveError("A closed account cannot take part in a reversal.")
        if amount > 0 and not account.is_internal and account.balance < amount:
            raise InsufficientFundsError()
    try:
        with transaction.atomic():
            return post(
                kind=Kind.REVERSAL,
                legs=[(locked[account_id], -amount) for account_id, amount in legs],
                initiated_by=initiated_by,
                description=f"Reversal: {reason}"[:140],
                reverses=original,
            )
    except IntegrityError:  # the one-to-one on `reverses`: a concurrent reversal won
        raise AlreadyReversedError() from None
