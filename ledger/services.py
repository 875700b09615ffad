"""Every write that moves or guards money. Each public service is one durable database
transaction: it locks the accounts it touches in ascending primary-key order (so two
opposite transfers cannot deadlock), re-reads them under the lock, checks the rules and
posts balanced entries. Refusals are domain errors; nothing is half-written.

`transfer` is the one transfer of the API and the portal: it decides whose account the
source is (`Account.objects.held_by`) and which accounts can be paid (`.customer()`) itself.
The posting's SQL (locks, inserts, balance updates, the idempotency completion) is in
`ledger/posting_sql.py`, whose docstring states its contract.

Every debit checks the AVAILABLE balance (`Account.available_balance`: the balance less what
card authorisations hold, `Account.held`), read under the account's lock. The holds' building
blocks (`place_hold`, `release_hold`, `capture_hold`, `lock_account`) run inside the cards
app's durable transactions and take the same account lock as every posting, first.

The staff actions (deposit, withdraw, freeze, unfreeze, close, reverse) check the staff rules
here, once, for every door (API, admin, commands): a person gives a reason, never acts on an
account they hold, and moves at most the approval limit of the currency alone (above it,
deposit, withdraw and reverse make an ApprovalRequest and post nothing, until a second person
approves it: `approve_request`, `reject_request`); each action writes its audit record in its
own transaction. `initiated_by=None` is the bank's own process (the demo seed, tests' helpers,
management commands), which no request reaches: no person, so no person's rules, but still
an audit record."""

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
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
    ApprovalClosedError,
    BalanceNotZeroError,
    CurrencyMismatchError,
    InsufficientFundsError,
    NotReversibleError,
    OwnAccountError,
    OwnRequestError,
    SameAccountError,
)
from ledger.idempotency import Idempotency
from ledger.models import (
    Account,
    AccountStatusChange,
    ApprovalRequest,
    Entry,
    LedgerCheckRun,
    Transaction,
)
from ledger.numbers import new_account_number

Kind = Transaction.Kind
Leg = tuple[Account, int]  # (account, signed minor units)


# --- building blocks ------------------------------------------------------------------------


def settlement_account(currency: str) -> Account:
    """The bank's own account for a currency: the other side of cash in and out. Postings
    never lock it (`post` adds to its InternalBalance shards): pass it to `post` as a leg
    without `lock_accounts`."""
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
    if not account.is_internal and account.available_balance < amount:
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
    """Write one balanced transaction. The caller holds the locks on every leg's customer
    account (the bank's own accounts need none: see below).

    Its time is the database's, never this app server's: the latest `locked_at` of the legs'
    accounts (`posting_sql.lock_accounts` and `lock_transfer_parties` read the database clock
    after their locks are granted), or, for accounts locked some other way, the database clock
    read now, still under the caller's locks. A posting that touches an account after another
    waited for that one's commit, so its time is later: on every account, the order of
    (created_at, id) is the order of posting, which `balance_after` and every history,
    cursor, statement and chart rely on, with app servers' clocks hours apart. Only the demo
    seed's `clock.posting_time` overrides it.

    The bank's own (internal) accounts are not locked and their `Account.balance` row is not
    written: each internal leg is added to one of the account's InternalBalance shards, and
    its entry keeps no running balance (`balance_after` NULL). They have no balance check to
    protect, and this way deposits, withdrawals and card payments do not all queue on the
    settlement account of their currency."""
    legs = list(legs)
    totals: dict[str, int] = defaultdict(int)
    for account, amount in legs:
        if amount == 0:
            raise ValueError("A ledger entry cannot be zero.")
        totals[account.currency] += amount
    if len(legs) < 2 or any(totals.values()):
        raise ValueError(f"Unbalanced transaction: {dict(totals)}")

    now = clock.posting_override() or _posting_time(legs)
    txn = Transaction(
        kind=kind,
        description=description,
        initiated_by=initiated_by,
        reverses=reverses,
        created_at=now,
    )
    entries = []
    for index, (account, amount) in enumerate(legs):
        if account.is_internal:
            balance_after = None
        else:
            account.balance += amount
            balance_after = account.balance
        counterparty = legs[1 - index][0] if len(legs) == 2 else None
        entries.append(
            Entry(
                transaction=txn,
                account=account,
                counterparty=counterparty,
                amount=amount,
                currency=account.currency,
                balance_after=balance_after,
                created_at=now,
            )
        )
    txn.posted_entries = entries  # in leg order, for the caller's response
    writes = [posting_sql.insert_rows([txn]), posting_sql.insert_rows(entries)]
    for account, amount in sorted(legs, key=lambda leg: leg[0].pk):  # shards in pk order too
        if account.is_internal:
            writes.append(posting_sql.add_to_internal_balance(account.pk, amount))
        else:
            writes.append(posting_sql.add_to_balance(account.pk, amount))
    if idempotency is not None:
        writes.append(idempotency.completion(txn))
    posting_sql.send(writes)  # one round trip on PostgreSQL for every write of the posting
    return txn


def _posting_time(legs: list[Leg]) -> datetime:
    """The database's time after the posting's locks (see `post`)."""
    stamps = [
        account.locked_at
        for account, _ in legs
        if not account.is_internal and getattr(account, "locked_at", None) is not None
    ]
    return max(stamps) if stamps else posting_sql.database_now()


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


def approval_limit(currency: str) -> int:
    """The most a person moves alone in `currency`, in its minor units: APPROVAL_LIMITS names
    a currency's own, APPROVAL_LIMIT is every other's."""
    return settings.APPROVAL_LIMITS.get(currency, settings.APPROVAL_LIMIT)


def _needs_approval(by: User | None, amount: int, currency: str) -> bool:
    """Four eyes: a person moving more than the limit alone asks a second person."""
    return by is not None and amount > approval_limit(currency)


def _request_approval(
    *,
    kind: str,
    account: Account,
    amount: int,
    requested_by: User,
    description: str,
    idempotency: Idempotency | None,
    reverses: Transaction | None = None,
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
        reverses=reverses,
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
            **({"reverses": str(reverses.pk)} if reverses else {}),
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
    _begin(amount, None)  # the key's claim goes out with the lock, just below
    claimed, parties = posting_sql.lock_transfer_parties(
        user=initiated_by,
        from_account=from_account,
        to_account_number=to_account_number,
        claim=idempotency.claim_write() if idempotency is not None else None,
    )
    if idempotency is not None:
        idempotency.claimed(claimed)  # Replay or conflict before anything about the accounts
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
    approved_by: User | None = None,
) -> Transaction | ApprovalRequest:
    """Cash in (deposit) or out (withdrawal) against the bank's settlement account; above the
    approval limit, an approval request instead, with nothing posted. `approved_by`: the
    second person whose approval of that request this posting is (no limit then)."""
    _ensure_staff_rules(by=initiated_by, accounts=[account], why=description, field="description")
    _ensure_staff_rules(by=approved_by, accounts=[account], why=description, field="description")
    _begin(amount, idempotency)
    description = description or ("Cash deposit" if kind == Kind.DEPOSIT else "Cash withdrawal")
    bank = settlement_account(account.currency)  # not locked: see `post`
    account = posting_sql.lock_accounts(account.pk)[account.pk]
    if kind == Kind.DEPOSIT:
        ensure_can_receive(account, bank.currency)
        legs = [(bank, -amount), (account, amount)]
    else:
        ensure_can_send(account, amount)
        legs = [(account, -amount), (bank, amount)]
    if approved_by is None and _needs_approval(initiated_by, amount, account.currency):
        # the rules hold today; the approver's post checks them again
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
        details={
            "amount": amount,
            "currency": account.currency,
            "transaction": str(txn.id),
            **({"approved_by": str(approved_by.pk)} if approved_by else {}),
        },
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
    above the approval limit posts nothing and returns the ApprovalRequest made instead."""
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
    withdrawal above the approval limit posts nothing and returns the ApprovalRequest instead."""
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

    Claims the idempotency key first (the key scoped to the card), then locks the card's
    account (as a withdrawal does) and calls `check(account)` under the lock with it fresh: the
    card's own rules (its status, its expiry, its daily limit), which raise to refuse. Then
    the ledger's: AccountInactiveError, InsufficientFundsError. Nothing is posted on a refusal.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("card_debit runs inside the card payment's transaction.")
    _begin(amount, idempotency)
    bank = settlement_account(account.currency)  # not locked: see `post`
    account = posting_sql.lock_accounts(account.pk)[account.pk]
    check(account)
    ensure_can_send(account, amount)
    return post(
        kind=Kind.CARD_PAYMENT,
        legs=[(account, -amount), (bank, amount)],
        initiated_by=None,
        description=merchant,
        idempotency=idempotency,
    )


# --- holds: card authorisations ----------------------------------------------------------------


def _in_callers_transaction(name: str) -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{name} runs inside its caller's transaction.")


def lock_account(account_id: UUID) -> Account:
    """One customer account locked as every posting locks it (`posting_sql.lock_accounts`):
    the first lock of a hold's capture, void or expiry, before the hold's own row."""
    _in_callers_transaction("lock_account")
    return posting_sql.lock_accounts(account_id)[account_id]


def place_hold(
    *,
    account: Account,
    amount: int,
    check: Callable[[Account], None],
    idempotency: Idempotency | None = None,
) -> Account:
    """Hold `amount` of `account`'s available balance for a card authorisation: a building
    block of the cards app's durable transaction, which records the hold itself. Claims the
    key, locks the account, calls `check(account)` (the card's rules) under the lock, then the
    ledger's (AccountInactiveError, InsufficientFundsError against the available balance)
    and adds `amount` to `held`. Returns the account as locked, `held` up to date."""
    _in_callers_transaction("place_hold")
    _begin(amount, idempotency)
    account = posting_sql.lock_accounts(account.pk)[account.pk]
    check(account)
    ensure_can_send(account, amount)
    posting_sql.send([posting_sql.add_to_held(account.pk, amount)])
    account.held += amount
    return account


def release_hold(*, account: Account, amount: int) -> None:
    """Give back `amount` of what `account` holds (a void, an expiry). The caller holds the
    account's lock (`lock_account`) and knows the hold had at least that much left."""
    _in_callers_transaction("release_hold")
    minor_units(amount)
    posting_sql.send([posting_sql.add_to_held(account.pk, -amount)])
    account.held -= amount


def capture_hold(
    *, account: Account, amount: int, merchant: str, idempotency: Idempotency | None = None
) -> Transaction:
    """A capture: `amount` released from the hold and posted as one `card_payment` from the
    card's account to the bank's settlement account, in the caller's transaction, under the
    account's lock (`lock_account`), the key already claimed. Held money is already out of the
    available balance, so the available balance is unchanged and nothing is re-checked."""
    _in_callers_transaction("capture_hold")
    release_hold(account=account, amount=amount)
    bank = settlement_account(account.currency)  # not locked: see `post`
    return post(
        kind=Kind.CARD_PAYMENT,
        legs=[(account, -amount), (bank, amount)],
        initiated_by=None,
        description=merchant,
        idempotency=idempotency,
    )


@transaction.atomic(durable=True)
def reverse(
    *, original: Transaction, initiated_by: User | None, reason: str
) -> Transaction | ApprovalRequest:
    """Staff correction: a new transaction with every leg of the original negated. The
    original stays as it was; a customer account must still hold the money to give back. A
    person's reversal above the approval limit posts nothing and returns the ApprovalRequest
    made instead."""
    return _reverse(original=original, initiated_by=initiated_by, reason=reason)


def _reverse(
    *,
    original: Transaction,
    initiated_by: User | None,
    reason: str,
    approved_by: User | None = None,
) -> Transaction | ApprovalRequest:
    if original.kind == Kind.REVERSAL:
        raise NotReversibleError()
    legs = list(original.entries.order_by("id").values_list("account_id", "amount"))
    locked = posting_sql.lock_accounts(*(account_id for account_id, _ in legs))
    _ensure_staff_rules(by=initiated_by, accounts=locked.values(), why=reason, field="reason")
    _ensure_staff_rules(by=approved_by, accounts=locked.values(), why=reason, field="reason")
    if Transaction.objects.filter(reverses=original).exists():
        raise AlreadyReversedError()
    for account_id, amount in legs:
        account = locked[account_id]
        if account.status == Account.Status.CLOSED:
            raise AccountInactiveError("A closed account cannot take part in a reversal.")
        if amount > 0 and not account.is_internal and account.available_balance < amount:
            raise InsufficientFundsError()
    size = sum(amount for _, amount in legs if amount > 0)
    # The request names the customer's side the reversal takes money from (the payee of a
    # transfer, the depositor), else the one it gives back to (a withdrawal's customer).
    customers = [(locked[a], amount) for a, amount in legs if not locked[a].is_internal]
    subject = next((acc for acc, amount in customers if amount > 0), None) or next(
        (acc for acc, _ in customers), locked[legs[0][0]]
    )
    if approved_by is None and _needs_approval(initiated_by, size, subject.currency):
        return _request_approval(
            kind=ApprovalRequest.Kind.REVERSAL,
            account=subject,
            amount=size,
            requested_by=initiated_by,
            description=reason[:140],
            idempotency=None,
            reverses=original,
        )
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
        details={
            "reversal": str(reversal.id),
            **({"approved_by": str(approved_by.pk)} if approved_by else {}),
        },
    )
    return reversal


# --- four eyes: deciding an approval request -------------------------------------------------


def _decide(approval_id: UUID, decide) -> ApprovalRequest | Transaction:
    """Lock the request (two approvers at once: the second waits, then finds it decided) and
    let `decide` act on it while it is pending. A request past its lifetime is stored as
    expired, with its audit record, in a transaction of its own that commits before the
    refusal: the next reader finds it closed without a job having swept it."""
    with transaction.atomic(durable=True):
        request = (
            ApprovalRequest.objects.select_for_update(of=("self",))
            .select_related("account", "requested_by", "reverses")
            .get(pk=approval_id)
        )
        if request.status != ApprovalRequest.Status.PENDING:
            raise ApprovalClosedError()
        if request.current_status != ApprovalRequest.Status.EXPIRED:
            return decide(request)
        request.status = ApprovalRequest.Status.EXPIRED
        request.save(update_fields=["status"])
        _audit_decision(request, actor=None, action=AuditRecord.Action.EXPIRE, reason="Expired")
    raise ApprovalClosedError("This approval request expired before anyone decided it.")


def _audit_decision(request: ApprovalRequest, *, actor, action: str, reason: str, **details):
    audit.record(
        actor=actor,
        action=action,
        target_type=AuditRecord.Target.ACCOUNT,
        target_id=request.account_id,
        target_label=str(request.account),
        reason=reason,
        details={
            "approval_request": str(request.pk),
            "kind": request.kind,
            "amount": request.amount,
            "currency": request.currency,
            "requested_by": str(request.requested_by_id),
            **details,
        },
    )


def approve_request(*, approval: ApprovalRequest, by: User) -> Transaction:
    """The second person's yes: the movement is posted now through the same service as a
    direct one, with the requester as its initiator and every rule checked again (the
    account may have been frozen or emptied since). ApprovalClosedError when it is no longer
    pending (decided, or expired: stored so), OwnRequestError for the requester themself; a
    refusal by the ledger leaves the request pending, for someone to reject."""

    def decide(request: ApprovalRequest) -> Transaction:
        if request.requested_by_id == by.pk:
            raise OwnRequestError()
        if request.kind == ApprovalRequest.Kind.REVERSAL:
            txn = _reverse(
                original=request.reverses,
                initiated_by=request.requested_by,
                reason=request.description,
                approved_by=by,
            )
        else:
            txn = _move_cash(
                kind=request.kind,
                account=request.account,
                amount=request.amount,
                initiated_by=request.requested_by,
                description=request.description,
                idempotency=None,
                approved_by=by,
            )
        request.status = ApprovalRequest.Status.APPROVED
        request.decided_by, request.decided_at, request.transaction = by, clock.now(), txn
        request.save(update_fields=["status", "decided_by", "decided_at", "transaction"])
        _audit_decision(
            request,
            actor=by,
            action=AuditRecord.Action.APPROVE,
            reason=request.description,
            transaction=str(txn.pk),
        )
        return txn

    return _decide(approval.pk, decide)


def reject_request(*, approval: ApprovalRequest, by: User, reason: str) -> ApprovalRequest:
    """The second person's no, and why. Nothing is posted. The requester may withdraw their
    own request this way: four eyes guards a posting, not a refusal."""
    if not reason.strip():
        raise ValidationFailed({"reason": ["A reason is required for every staff action."]})

    def decide(request: ApprovalRequest) -> ApprovalRequest:
        request.status = ApprovalRequest.Status.REJECTED
        request.decided_by, request.decided_at = by, clock.now()
        request.decision_reason = reason
        request.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        _audit_decision(request, actor=by, action=AuditRecord.Action.REJECT, reason=reason)
        return request

    return _decide(approval.pk, decide)


# --- proofs -----------------------------------------------------------------------------------


@transaction.atomic  # not durable: a check may run inside a test's (or a caller's) transaction
def record_ledger_check(*, started_at, report) -> LedgerCheckRun:
    """Keep a `ledger_check` run's outcome (a `ledger.checks.LedgerReport`) for the back
    office's front page."""
    return LedgerCheckRun.objects.create(
        started_at=started_at,
        finished_at=clock.now(),
        ok=report.ok,
        transactions=report.transactions,
        entries=report.entries,
        accounts=report.accounts,
        report=report.problems,
    )
