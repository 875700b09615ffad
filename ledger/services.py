"""Every write that moves or guards money. Each public service is one durable database
transaction: it locks the accounts it touches in ascending primary-key order (so two
opposite transfers cannot deadlock), re-reads them under the lock, checks the rules and
posts balanced entries. Refusals are domain errors; nothing is half-written."""

from collections import defaultdict
from collections.abc import Iterable
from uuid import UUID

from django.db import IntegrityError, connection, transaction
from django.db.models import Model

from accounts.models import Holder, User
from core.errors import NotFound
from core.money import minor_units
from ledger import clock
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
from ledger.models import Account, AccountStatusChange, Entry, Transaction
from ledger.numbers import new_account_number

Kind = Transaction.Kind
Leg = tuple[Account, int]  # (account, signed minor units)


# --- building blocks ------------------------------------------------------------------------


# A posting's statements (lock, insert, write the balances) are plain SQL over the models'
# own metadata, and its writes go in one round trip: Django's query compiler cost more CPU than
# PostgreSQL spends running them (bench/, `python -m bench profile`).


def _locked_accounts(where: str, params: list, *, holder: bool = False) -> list[Account]:
    """Accounts `a` matching `where`, locked FOR UPDATE in ascending primary-key order and
    re-read as fresh rows. With `holder`, `h` is the account's holder in `where`, and each
    account comes with `holder_user_id` as the database returned it (see `_db_value`)."""
    q = connection.ops.quote_name
    features = connection.features
    lock = ""
    if features.has_select_for_update:  # OF a: the accounts' rows, never the holders'
        lock = " FOR UPDATE OF a" if features.has_select_for_update_of else " FOR UPDATE"
    fields = Account._meta.concrete_fields
    columns = ", ".join(f"a.{q(field.column)}" for field in fields)
    join = ""
    if holder:
        columns += f", h.{q('user_id')}"
        join = f"JOIN {q(Holder._meta.db_table)} h ON h.{q('id')} = a.{q('holder_id')} "
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {q(Account._meta.db_table)} a {join}"  # noqa: S608
            f"WHERE {where} ORDER BY a.{q('id')}{lock}",
            params,
        )
        rows = cursor.fetchall()
    names = [field.attname for field in fields]
    accounts = []
    for row in rows:
        values = list(row[: len(fields)])
        for index, converters, column in _account_converters():
            for convert in converters:
                values[index] = convert(values[index], column, connection)
        account = Account.from_db(connection.alias, names, values)
        if holder:
            account.holder_user_id = row[-1]
        accounts.append(account)
    return accounts


_CONVERTERS: dict[str, list] = {}


def _account_converters() -> list:
    """What the ORM applies to an account's columns as this backend returns them (nothing in
    PostgreSQL; text to uuid and datetime in SQLite), worked out once per backend."""
    if connection.vendor not in _CONVERTERS:
        found = []
        for index, field in enumerate(Account._meta.concrete_fields):
            column = field.get_col(Account._meta.db_table)
            converters = connection.ops.get_db_converters(column)
            converters += column.get_db_converters(connection)
            if converters:
                found.append((index, converters, column))
        _CONVERTERS[connection.vendor] = found
    return _CONVERTERS[connection.vendor]


def _db_value(model, pk: UUID):
    """A primary key as this database stores it (a uuid in PostgreSQL, hex text in SQLite)."""
    return model._meta.pk.get_db_prep_value(pk, connection)


def lock_accounts(*ids: UUID) -> dict[UUID, Account]:
    """SELECT ... FOR UPDATE in ascending primary-key order, one query; fresh rows."""
    unique = set(ids)
    where = f"a.{connection.ops.quote_name('id')} IN ({', '.join(['%s'] * len(unique))})"
    return {a.pk: a for a in _locked_accounts(where, [_db_value(Account, pk) for pk in unique])}


def lock_transfer_parties(
    *, user: User, from_account: UUID, to_account_number: str
) -> tuple[Account, Account]:
    """The caller's own account `from_account` and the customer account numbered
    `to_account_number`, found and locked by one query (one row when they are the same), or
    NotFound as the API's lookups refuse them: first `account_get`'s, then `payee_get`'s."""
    q = connection.ops.quote_name
    me = _db_value(User, user.pk)
    rows = _locked_accounts(
        f"a.{q('type')} <> %s AND ((a.{q('id')} = %s AND h.{q('user_id')} = %s) "
        f"OR a.{q('number')} = %s)",
        [Account.Type.INTERNAL, _db_value(Account, from_account), me, to_account_number],
        holder=True,
    )
    source = next((a for a in rows if a.pk == from_account and a.holder_user_id == me), None)
    if source is None:
        raise NotFound()  # someone else's account does not exist for you
    destination = next((a for a in rows if a.number == to_account_number), None)
    if destination is None:
        raise NotFound("No account has this number.")
    return source, destination


Statement = tuple[str, list]


def insert_statement(rows: list[Model]) -> Statement:
    """INSERT new rows of one model, primary keys already drawn (uuid7), as one statement: what
    `bulk_create` sends, without its compiler."""
    meta = rows[0]._meta
    fields = meta.concrete_fields
    q = connection.ops.quote_name
    columns = ", ".join(q(field.column) for field in fields)
    values = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * len(rows))
    params = [
        field.get_db_prep_save(field.pre_save(row, add=True), connection)
        for row in rows
        for field in fields
    ]
    return f"INSERT INTO {q(meta.db_table)} ({columns}) VALUES {values}", params  # noqa: S608


def balances_statement(accounts: list[Account]) -> Statement:
    """One UPDATE for the accounts' new balances: the CASE that `bulk_update` builds through
    the ORM's expressions, which cost more CPU than the rest of a posting."""
    q = connection.ops.quote_name
    table, pk, balance = q(Account._meta.db_table), q("id"), q("balance")
    ids = [_db_value(Account, account.pk) for account in accounts]
    cases = []
    for account_id, account in zip(ids, accounts, strict=True):
        cases += [account_id, account.balance]
    marks = ", ".join(["%s"] * len(ids))
    sql = (
        f"UPDATE {table} SET {balance} = CASE {pk} {'WHEN %s THEN %s ' * len(ids)}END "  # noqa: S608
        f"WHERE {pk} IN ({marks})"
    )
    return sql, [*cases, *ids]


def run_statements(statements: list[Statement]) -> None:
    """In one round trip on PostgreSQL: Django's psycopg binds parameters on the client and
    sends a simple query, which may hold several statements (a failure in any one aborts the
    transaction as it would alone). One by one elsewhere (SQLite takes one per call)."""
    one_trip = connection.vendor == "postgresql" and not connection.settings_dict.get(
        "OPTIONS", {}
    ).get("server_side_binding")
    with connection.cursor() as cursor:
        if one_trip:
            cursor.execute(
                ";\n".join(sql for sql, _ in statements),
                [param for _, params in statements for param in params],
            )
        else:
            for sql, params in statements:
                cursor.execute(sql, params)


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
    statements = [
        insert_statement([txn]),
        insert_statement(entries),
        balances_statement([account for account, _ in legs]),
    ]
    if idempotency is not None:
        statements.append(idempotency.completion(txn))
    run_statements(statements)  # one round trip for every write of the posting
    for row in (txn, *entries):
        row._state.adding, row._state.db = False, connection.alias
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


def _begin(amount: int, idempotency: Idempotency | None) -> None:
    """First in every money-moving service: refuse a non-amount, then claim the key."""
    # The API and the forms refuse these first, but a negative amount reaching a service would
    # run the money backwards (a "transfer" of -100 takes 100 from the payee): refuse it here too.
    minor_units(amount)
    if idempotency is not None:
        idempotency.claim()


def _post_transfer(
    source: Account,
    destination: Account,
    *,
    amount: int,
    initiated_by: User,
    description: str,
    idempotency: Idempotency | None,
) -> Transaction:
    ensure_can_transfer(source, destination, amount)  # the accounts are locked and fresh
    return post(
        kind=Kind.TRANSFER,
        legs=[(source, -amount), (destination, amount)],
        initiated_by=initiated_by,
        description=description,
        idempotency=idempotency,
    )


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
    _begin(amount, idempotency)
    locked = lock_accounts(source.pk, destination.pk)
    return _post_transfer(
        locked[source.pk],
        locked[destination.pk],
        amount=amount,
        initiated_by=initiated_by,
        description=description,
        idempotency=idempotency,
    )


@transaction.atomic(durable=True)
def transfer_to_number(
    *,
    initiated_by: User,
    from_account: UUID,
    to_account_number: str,
    amount: int,
    description: str = "",
    idempotency: Idempotency | None = None,
) -> Transaction:
    """`transfer` from the caller's account `from_account` to the customer account numbered
    `to_account_number`, as the API asks for it: the two accounts are found and locked by one
    query instead of being read once to resolve them and again under the lock. Refuses as
    `transfer` does, and with NotFound as the API's lookups do (not the caller's account, no
    account with that number)."""
    _begin(amount, idempotency)
    source, destination = lock_transfer_parties(
        user=initiated_by, from_account=from_account, to_account_number=to_account_number
    )
    return _post_transfer(
        source,
        destination,
        amount=amount,
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
) -> Transaction:
    """Cash in (deposit) or out (withdrawal) against the bank's settlement account."""
    _begin(amount, idempotency)
    bank = settlement_account(account.currency)
    locked = lock_accounts(account.pk, bank.pk)
    account, bank = locked[account.pk], locked[bank.pk]
    if kind == Kind.DEPOSIT:
        ensure_can_receive(account, bank.currency)
        legs = [(bank, -amount), (account, amount)]
    else:
        ensure_can_send(account, amount)
        legs = [(account, -amount), (bank, amount)]
    return post(
        kind=kind,
        legs=legs,
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
    return _move_cash(
        kind=Kind.DEPOSIT,
        account=account,
        amount=amount,
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
    return _move_cash(
        kind=Kind.WITHDRAWAL,
        account=account,
        amount=amount,
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
