"""Every write that moves or guards money. Each public service is one durable database
transaction: it locks the accounts it touches in ascending primary-key order (so two
opposite transfers cannot deadlock), re-reads them under the lock, checks the rules and
posts balanced entries. Refusals are domain errors; nothing is half-written.

`transfer` is the one transfer of the API and the portal: it decides whose account the
source is (`Account.objects.held_by`) and which accounts can be paid (`.customer()`) itself.
The posting's SQL (locks, inserts, balance updates, the idempotency completion) is in
`ledger/posting_sql.py`, whose docstring states its contract.

The staff actions (deposit, withdraw, freeze, unfreeze, close, reverse) check the staff rules
here, once, for every door (API, admin, commands): a person gives a reason, never acts on an
account they hold, and moves at most APPROVAL_LIMIT alone (above it, deposit and withdraw
make an ApprovalRequest and post nothing); each action writes its audit record in its own
transaction. `initiated_by=None` is the bank's own process (the demo seed, tests' helpers,
management commands), which no request reaches: no person, so no person's rules, but still
an audit record."""

from collections import defaultdict
from collections.abc import Callable, Iterable
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.models import Holder, User
from audit import services as audit
from audit.models import AuditRecord
from core.errors import NotFound, ValidationFailed
from core.money import minor_units
from ledger import clock, posting_sql
from ledger.errors import (
    AccountInactiveError,
    AlreadyReversedError,
    BalanceNotZeroError,
    CurrencyMismatchError,
    InsufficientFundsError,
    NotReversibleError,
    OwnAccountError,
    SameAccountError,
)
from ledger.idempotency import Idempotency
from ledger.models import Account, AccountStatusChange, ApprovalRequest, Entry, Transaction
from ledger.numbers import new_account_number

Kind = Transaction.Kind
Leg = tuple[Account, int]  # (account, signed minor units)


# --- building blocks ------------------------------------------------------------------------


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


def ensure_can_transfer(source: Account, destination: Account, amount: int) -> None:
    """The transfer rules. `transfer` checks them under its locks; the portal also checks them
    unlocked before it asks the customer to confirm, so a refusal shows on the form."""
    if source.pk == destination.pk:
        raise SameAccountError()
    ensure_can_send(source, amount)
    ensure_can_receive(destination, source.currency)


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

    now = clock.now()  # taken under the locks: entry order on an account is posting order
    txn = Transaction(
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
    txn.posted_entries = entries  # in leg order, for the caller's response
    writes = [
        posting_sql.insert_rows([txn]),
        posting_sql.insert_rows(entries),
        *(posting_sql.add_to_balance(account.pk, amount) for account, amount in legs),
    ]
    if idempotency is not None:
        writes.append(idempotency.completion(txn))
    posting_sql.send(writes)  # one round trip on PostgreSQL for every write of the posting
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
                    created_at=clock.now(),
                )
        except IntegrityError:  # a number collision: draw another
            continue
    raise RuntimeError("Could not draw a free account number.")


@transaction.atomic  # not durable: the admin's change form already runs in a transaction
def rename_account(*, account: Account, nickname: str) -> Account:
    Account.objects.filter(pk=account.pk).update(nickname=nickname)
    account.nickname = nickname
    return account


# --- the staff rules -------------------------------------------------------------------------


def _ensure_staff_rules(
    *, by: User | None, accounts: Iterable[Account], why: str, field: str
) -> None:
    """A person's staff action: a reason, and none of the accounts theirs. The bank's own
    process (`by=None`) is not a person."""
    if by is None:
        return
    if not why.strip():
        raise ValidationFailed({field: [f"A {field} is required for every staff action."]})
    customer_accounts = [account.pk for account in accounts if not account.is_internal]
    if Account.objects.held_by(by).filter(pk__in=customer_accounts).exists():
        raise OwnAccountError()


def ensure_staff_rules(*, by: User | None, accounts: Iterable[Account], why: str, field: str):
    """The staff rules for a staff action another app offers on these accounts (a card's
    freeze): a reason, and none of the accounts the person's own."""
    _ensure_staff_rules(by=by, accounts=accounts, why=why, field=field)


def _needs_approval(by: User | None, amount: int) -> bool:
    """Four eyes: a person moving more than APPROVAL_LIMIT alone asks a second person."""
    return by is not None and amount > settings.APPROVAL_LIMIT


def _request_approval(
    *,
    kind: str,
    account: Account,
    amount: int,
    requested_by: User,
    description: str,
    idempotency: Idempotency | None,
) -> ApprovalRequest:
    """Instead of posting: the request an approver will decide, its audit record, and the
    idempotency key's answer (the 202), in the movement's own transaction."""
    now = clock.now()
    request = ApprovalRequest.objects.create(
        kind=kind,
        account=account,
        amount=amount,
        currency=account.currency,
        description=description,
        requested_by=requested_by,
        created_at=now,
        expires_at=now + ApprovalRequest.LIFETIME,
    )
    audit.record(
        actor=requested_by,
        action=AuditRecord.Action.REQUEST_APPROVAL,
        target_type=AuditRecord.Target.ACCOUNT,
        target_id=account.pk,
        target_label=str(account),
        reason=description,
        details={
            "kind": kind,
            "amount": amount,
            "currency": account.currency,
            "approval_request": str(request.pk),
        },
    )
    if idempotency is not None:
        posting_sql.send([idempotency.completion(request)])
    return request


def _change_status(*, account: Account, to: str, action: str, reason: str, by: User | None):
    account = posting_sql.lock_accounts(account.pk)[account.pk]
    if account.status == Account.Status.CLOSED:
        raise AccountInactiveError("The account is closed; closing is final.")
    was = account.status
    if account.status != to:
        AccountStatusChange.objects.create(
            account=account, from_status=account.status, to_status=to, reason=reason, changed_by=by
        )
        account.status = to
        account.save(update_fields=["status"])
    audit.record(
        actor=by,
        action=action,
        target_type=AuditRecord.Target.ACCOUNT,
        target_id=account.pk,
        target_label=str(account),
        reason=reason,
        details={"from_status": was, "to_status": to},
    )
    return account


@transaction.atomic(durable=True)
def freeze_account(*, account: Account, reason: str, by: User | None) -> Account:
    """A frozen account neither sends nor receives until it is unfrozen."""
    _ensure_staff_rules(by=by, accounts=[account], why=reason, field="reason")
    return _change_status(
        account=account, to=Account.Status.FROZEN, action="freeze", reason=reason, by=by
    )


@transaction.atomic(durable=True)
def unfreeze_account(*, account: Account, reason: str, by: User | None) -> Account:
    _ensure_staff_rules(by=by, accounts=[account], why=reason, field="reason")
    return _change_status(
        account=account, to=Account.Status.ACTIVE, action="unfreeze", reason=reason, by=by
    )


@transaction.atomic(durable=True)
def close_account(*, account: Account, reason: str, by: User | None) -> Account:
    """Final. Only an empty account can be closed: money is never stranded in a closed one."""
    _ensure_staff_rules(by=by, accounts=[account], why=reason, field="reason")
    locked = posting_sql.lock_accounts(account.pk)[account.pk]
    if locked.status != Account.Status.CLOSED and locked.balance != 0:
        raise BalanceNotZeroError()
    return _change_status(
        account=locked, to=Account.Status.CLOSED, action="close", reason=reason, by=by
    )


# --- money ----------------------------------------------------------------------------------


def _begin(amount: int, idempotency: Idempotency | None) -> None:
    """First in every money-moving service: refuse a non-amount, then claim the key."""
    # The API and the forms refuse these first, but a negative amount reaching a service would
    # run the money backwards (a "transfer" of -100 takes 100 from the payee): refuse it here too.
    minor_units(amount)
    if idempotency is not None:
        idempotency.claim()


@transaction.atomic(durable=True)
def transfer(
    *,
    initiated_by: User,
    from_account: UUID,
    to_account_number: str,
    amount: int,
    description: str = "",
    idempotency: Idempotency | None = None,
) -> Transaction:
    """Send `amount` from `initiated_by`'s account `from_account` to the customer account
    numbered `to_account_number`: the API's and the portal's one transfer. Both accounts are
    found and locked by one query, whose rules are the models' own (`held_by` for the source,
    `customer` for the payee); NotFound when the source is not the caller's (someone else's
    account does not exist for you) or no customer account has that number."""
    _begin(amount, idempotency)
    parties = posting_sql.lock_transfer_parties(
        user=initiated_by, from_account=from_account, to_account_number=to_account_number
    )
    source = next((account for account in parties if account.is_source), None)
    if source is None:
        raise NotFound()
    destination = next((a for a in parties if a.number == to_account_number), None)
    if destination is None:
        raise NotFound("No account has this number.")
    ensure_can_transfer(source, destination, amount)  # the accounts are locked and fresh
    return post(
        kind=Kind.TRANSFER,
        legs=[(source, -amount), (destination, amount)],
        initiated_by=initiated_by,
        description=description,
        idempotency=idempotency,
    )


def _move_cash(
    *,
    kind: str,
    account: Account,
    amount: int,
    initiated_by: User | None,
    description: str,
    idempotency: Idempotency | None,
) -> Transaction | ApprovalRequest:
    """Cash in (deposit) or out (withdrawal) against the bank's settlement account; above the
    approval limit, an approval request instead, with nothing posted."""
    _ensure_staff_rules(by=initiated_by, accounts=[account], why=description, field="description")
    _begin(amount, idempotency)
    description = description or ("Cash deposit" if kind == Kind.DEPOSIT else "Cash withdrawal")
    bank = settlement_account(account.currency)
    locked = posting_sql.lock_accounts(account.pk, bank.pk)
    account, bank = locked[account.pk], locked[bank.pk]
    if kind == Kind.DEPOSIT:
        ensure_can_receive(account, bank.currency)
        legs = [(bank, -amount), (account, amount)]
    else:
        ensure_can_send(account, amount)
        legs = [(account, -amount), (bank, amount)]
    if _needs_approval(initiated_by, amount):  # the rules hold today; the approver's post rechecks
        return _request_approval(
            kind=kind,
            account=account,
            amount=amount,
            requested_by=initiated_by,
            description=description,
            idempotency=idempotency,
        )
    txn = post(
        kind=kind,
        legs=legs,
        initiated_by=initiated_by,
        description=description,
        idempotency=idempotency,
    )
    audit.record(
        actor=initiated_by,
        action="deposit" if kind == Kind.DEPOSIT else "withdraw",
        target_type=AuditRecord.Target.ACCOUNT,
        target_id=account.pk,
        target_label=str(account),
        reason=description,
        details={"amount": amount, "currency": account.currency, "transaction": str(txn.id)},
    )
    return txn


@transaction.atomic(durable=True)
def deposit(
    *,
    account: Account,
    amount: int,
    initiated_by: User | None,
    description: str = "",
    idempotency: Idempotency | None = None,
) -> Transaction | ApprovalRequest:
    """Cash in: the bank's settlement account pays the customer's account. A person's deposit
    above APPROVAL_LIMIT posts nothing and returns the ApprovalRequest made instead."""
    return _move_cash(
        kind=Kind.DEPOSIT,
        account=account,
        amount=amount,
        initiated_by=initiated_by,
        description=description,
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
) -> Transaction | ApprovalRequest:
    """Cash out: the customer's account pays the bank's settlement account. A person's
    withdrawal above APPROVAL_LIMIT posts nothing and returns the ApprovalRequest instead."""
    return _move_cash(
        kind=Kind.WITHDRAWAL,
        account=account,
        amount=amount,
        initiated_by=initiated_by,
        description=description,
        idempotency=idempotency,
    )


def card_debit(
    *,
    account: Account,
    amount: int,
    merchant: str,
    check: Callable[[Account], None],
    idempotency: Idempotency | None = None,
) -> Transaction:
    """A card payment's posting: `amount` from the card's `account` to the bank's settlement
    account in its currency, kind `card_payment`, the merchant as the description (the
    history's counterparty). A building block, not a service: it runs inside the cards app's
    durable transaction, which writes its own record of the payment in the same transaction.

    Claims the idempotency key first (the key scoped to the card), then locks the accounts in
    primary-key order and calls `check(account)` under the lock with the account fresh: the
    card's own rules (its status, its expiry, its daily limit), which raise to refuse. Then
    the ledger's: AccountInactiveError, InsufficientFundsError. Nothing is posted on a refusal.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("card_debit runs inside the card payment's transaction.")
    _begin(amount, idempotency)
    bank = settlement_account(account.currency)
    locked = posting_sql.lock_accounts(account.pk, bank.pk)
    account, bank = locked[account.pk], locked[bank.pk]
    check(account)
    ensure_can_send(account, amount)
    return post(
        kind=Kind.CARD_PAYMENT,
        legs=[(account, -amount), (bank, amount)],
        initiated_by=None,
        description=merchant,
        idempotency=idempotency,
    )


@transaction.atomic(durable=True)
def reverse(*, original: Transaction, initiated_by: User | None, reason: str) -> Transaction:
    """Staff correction: a new transaction with every leg of the original negated. The
    original stays as it was; a customer account must still hold the money to give back."""
    if original.kind == Kind.REVERSAL:
        raise NotReversibleError()
    legs = list(original.entries.values_list("account_id", "amount"))
    locked = posting_sql.lock_accounts(*(account_id for account_id, _ in legs))
    _ensure_staff_rules(by=initiated_by, accounts=locked.values(), why=reason, field="reason")
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
            reversal = post(
                kind=Kind.REVERSAL,
                legs=[(locked[account_id], -amount) for account_id, amount in legs],
                initiated_by=initiated_by,
                description=f"Reversal: {reason}"[:140],
                reverses=original,
            )
    except IntegrityError:  # the one-to-one on `reverses`: a concurrent reversal won
        raise AlreadyReversedError() from None
    audit.record(
        actor=initiated_by,
        action="reverse",
        target_type=AuditRecord.Target.TRANSACTION,
        target_id=original.pk,
        target_label=f"{original.kind} {original.pk}",
        reason=reason,
        details={"reversal": str(reversal.id)},
    )
    return reversal
