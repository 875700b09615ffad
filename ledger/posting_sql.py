"""The posting's SQL: the one place where the ledger steps off the ORM, and why it may.

Compiling the ORM's queries cost more CPU per transfer than PostgreSQL spends running them
(`python -m bench profile`); the same postings written with `select_for_update`,
`bulk_create` and `F()` updates ran at about a third of this path's service-layer throughput.
So the posting's statements are built here, from documented Django APIs only, and this
module's test (`ledger/tests/test_posting_sql.py`) proves on SQLite and PostgreSQL that they
write exactly the rows the ORM would.

The contract:

- **What it locks, in what order.** `lock_accounts(*ids)` and `lock_transfer_parties(...)`
  run `SELECT ... FOR NO KEY UPDATE OF` the account rows (never their holders' rows), ordered by
  primary key, in one statement: two postings that touch the same accounts take their locks
  in the same order, so they queue instead of deadlocking. NO KEY UPDATE, the lock an UPDATE
  of a non-key column takes, as a posting only changes balances: it does not block the
  foreign-key checks (KEY SHARE) of other postings' entries that name the account, so an
  account that is only some posting's counterparty (the settlement account) is never waited
  on. The SQL is the ORM's own: the QuerySet (`Account.objects.customer()`, `.held_by()`,
  `.select_for_update(of=("self",), no_key=True)`,
  `.order_by("pk")`) is compiled once per database and vendor, captured through
  `connection.execute_wrapper` without running, and replayed with each call's parameters.
  Rows come back through `QuerySet.raw()`, which maps columns to fresh `Account` instances
  (SQLite, which has no row locks, serialises writers with IMMEDIATE transactions instead).
- **When it posts.** On PostgreSQL the lock query is wrapped (`_with_clock`) so that each row
  also carries `locked_at`, the database's `clock_timestamp()` read after that row's lock was
  granted, in the same round trip. `services.post` stamps the transaction and its entries
  with the latest, so entry order on an account is the order in which postings held its lock,
  whatever the app servers' clocks say. On SQLite (one file on one host) it is the host's
  clock, read inside the BEGIN IMMEDIATE that serialises writers (`_stamp`).
- **What it writes.** `insert_rows()`: one multi-row INSERT per model with exactly the columns
  `bulk_create` writes (the model's concrete fields that are not generated), each value
  through the field's `pre_save` and `get_db_prep_save`, primary keys already drawn (uuid7).
  `add_to_balance()`: one relative UPDATE per customer account, `balance = balance + %s`, so
  a balance is never written from a stale copy. `add_to_internal_balance()`: for the bank's
  own accounts, which are not locked, one relative upsert into one of `InternalBalance.SHARDS`
  rows picked at random, so that postings do not queue on one settlement row.
  `complete_key()`: the idempotency row's response and transaction, in the same database
  transaction as the posting.
  `add_to_held()`: a relative UPDATE of a customer account's `held` (the money card
  authorisations hold), by the holds' building blocks in `services`, under the account's lock
  like a posting; the database's checks keep `held >= 0` and `balance - held >= 0`.
- **Planned once.** On PostgreSQL each of these statements is PREPAREd the first time it runs
  in a database session, as its SQL with `$n` for each `%s`, and sent as `EXECUTE name(...)`
  from then on (`_executable`), with the same parameters, bound on the client as before:
  PostgreSQL no longer parses and plans the lock and the writes on every transfer, which was a
  quarter of its CPU per transfer. A session's prepared statements are known by its psycopg
  connection; Django's reconnection is a new session, which prepares them again.
  `LEDGER_PREPARED_STATEMENTS = False` (behind a pooler in transaction mode) sends the SQL itself.
- **In how many round trips.** `send()` joins a posting's writes into one round trip on
  PostgreSQL (Django's psycopg binds parameters on the client and sends one simple query; a
  failure in any statement aborts the transaction as it would alone). SQLite takes one
  statement per call, so the same statements run one by one there: the SQLite suite runs the
  production SQL too. A transfer's statements thus take two round trips between BEGIN and
  COMMIT: the idempotency claim with the lock (`lock_transfer_parties(claim=...)`), then the
  writes.
"""

import contextlib
import hashlib
import random
import re
import threading
import uuid
import weakref
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    Field,
    IntegerField,
    Model,
    Q,
    QuerySet,
    UUIDField,
)
from django.utils import timezone

from accounts.models import User
from ledger.models import (
    Account,
    AccountQuerySet,
    IdempotencyKey,
    InternalBalance,
    Transaction,
)

Write = tuple[str, list]  # one SQL statement and its parameters

_PK = Account._meta.pk
_NUMBER = Account._meta.get_field("number")
_USER_PK = User._meta.pk
_HOLDER_PK = Account._meta.get_field("holder").target_field


def _db():
    """The default database's connection wrapper: `django.db.connection` without its proxy,
    which looks the wrapper up again (asgiref's Local) on every attribute. A field prepares a
    value reading the connection several times: through the proxy that was 60% of preparing a
    row."""
    return connections[DEFAULT_DB_ALIAS]


# --- locks ------------------------------------------------------------------------------------


class _Captured(Exception):
    """Raised by the capturing wrapper so that the captured statement never runs."""


def _capture(queryset: QuerySet) -> tuple[str, list]:
    """The SQL and parameters the ORM sends for `queryset`, without sending them."""
    seen: list[tuple[str, list]] = []

    def wrapper(execute, sql, params, many, context):
        seen.append((sql, list(params or ())))
        raise _Captured()

    with connection.execute_wrapper(wrapper), contextlib.suppress(_Captured):
        list(queryset)
    return seen[0]


_templates: dict[tuple, tuple[str, list[tuple[str | None, Any]]]] = {}


def _replay(
    key: str, build: Callable[..., QuerySet], args: dict[str, tuple[Field, Any]]
) -> tuple[str, list]:
    """`build(**args)`'s SQL and parameters for `args`' values. The SQL is captured once per
    (database, vendor, key) with a distinct stand-in value per argument; each parameter that
    equals a stand-in is that argument's slot, the others are the query's own constants."""
    db = _db()
    cache_key = (db.alias, db.vendor, key)
    template = _templates.get(cache_key)
    if template is None:
        stand_ins = {name: _stand_in(field, i) for i, (name, (field, _)) in enumerate(args.items())}
        sql, params = _capture(build(**stand_ins))
        prepared = {
            name: field.get_db_prep_value(stand_ins[name], db) for name, (field, _) in args.items()
        }
        slots = []
        for param in params:
            name = next((n for n, value in prepared.items() if value == param), None)
            slots.append((name, param))
        if {name for name, _ in slots} - {None} != set(args):
            raise RuntimeError(f"Could not find every argument of {key} in its SQL.")
        _templates[cache_key] = template = (sql, slots)
    sql, slots = template
    values = {name: field.get_db_prep_value(value, db) for name, (field, value) in args.items()}
    return sql, [values[name] if name else const for name, const in slots]


def _stand_in(field: Field, index: int) -> Any:
    if isinstance(field, UUIDField):
        return uuid.UUID(int=0x5EED_0000 + index)
    if isinstance(field, IntegerField):  # AutoFields too
        return 0x5EED_0000 + index
    return f"\x1f{index}"  # a character no account number holds


def lock_accounts(*ids: UUID) -> dict[UUID, Account]:
    """The accounts `ids`, locked FOR NO KEY UPDATE in ascending primary-key order, read fresh
    (with `locked_at`: see `_with_clock`)."""
    unique = sorted(set(ids))
    args = {f"id{i}": (_PK, pk) for i, pk in enumerate(unique)}

    def build(**ids):
        return (
            Account.objects.filter(pk__in=list(ids.values()))
            .select_for_update(of=("self",), no_key=True)
            .order_by("pk")
        )

    sql, params = _replay(f"lock{len(unique)}", build, args)
    (lock,) = _executable(_with_clock(sql))
    rows = list(Account.objects.raw(lock, params))
    _stamp(rows)
    return {account.pk: account for account in rows}


# What a transfer reads of its two parties: the rules' fields and the number its answer shows.
PARTY_FIELDS = ["id", "number", "holder_id", "type", "currency", "balance", "held", "status"]


def lock_transfer_parties(
    *, user: User, from_account: UUID, to_account_number: str, claim: Write | None = None
) -> tuple[int | None, list[Account]]:
    """The customer accounts that are `user`'s account `from_account` (marked `is_source`) or
    are numbered `to_account_number`, locked FOR NO KEY UPDATE in primary-key order by one
    query (one row when both are the same account; none of the bank's own). The rows come back
    as plain tuples of `PARTY_FIELDS` (the other fields are deferred: loaded if anything
    asks), which costs a third of what `raw()` spends mapping whole rows, on the path every
    transfer takes.
    Only the id needs its field's `to_python` (SQLite returns it as text).

    `claim`: an idempotency key's `claim_key` INSERT, run first, in the same round trip on
    PostgreSQL (two statements in one simple query, as `send` does; a claim that waits for a
    concurrent request with the same key waits before the lock, as when sent alone). Returns
    the claimed row's id (None: not claimed, or no claim sent) and the accounts; the caller
    decides what an unclaimed key means (`Idempotency.claimed`) before it uses them."""
    db = _db()
    args = {"source": (_PK, from_account), "number": (_NUMBER, to_account_number)}
    holder_id = getattr(user, "known_holder_id", None)
    if holder_id is None:  # the rule joins the holder (AccountQuerySet.holder_is)
        key, args["user"] = "transfer-parties", (_USER_PK, user.pk)
    else:  # the token named the holder: the rule is the account's own column
        key, args["holder"] = "transfer-parties-by-holder", (_HOLDER_PK, holder_id)

    def build(*, source, number, user=None, holder=None):
        owner = User(pk=user)
        owner.known_holder_id = holder
        # The ownership rule as a Q on the same join, not a subquery: `IN (subquery) OR ...`
        # was planned as a scan of every account, and EXISTS cost a millisecond of planning.
        own = Q(pk=source) & AccountQuerySet.holder_is(owner)
        return (
            Account.objects.customer()
            .filter(own | Q(number=number))
            .annotate(is_source=ExpressionWrapper(own, output_field=BooleanField()))
            .select_for_update(of=("self",), no_key=True)
            .order_by("pk")
            .values_list(*PARTY_FIELDS, "is_source")
        )

    sql, params = _replay(key, build, args)
    clocked = db.vendor == "postgresql"
    claimed = None
    if claim is not None and not _one_trip(db):
        claimed, claim = insert_key(claim), None
    with db.cursor() as cursor:
        if claim is None:
            (lock,) = _executable(_with_clock(sql))
            cursor.execute(lock, params)
        else:
            claim_sql, lock = _executable(claim[0], _with_clock(sql))
            cursor.execute(f"{claim_sql};\n{lock}", [*claim[1], *params])
            row = cursor.fetchone()
            claimed = row[0] if row else None
            cursor.nextset()
        rows = cursor.fetchall()
    parties = []
    for row in rows:
        *values, is_source = row[:-1] if clocked else row
        values[0] = _PK.to_python(values[0])
        account = Account.from_db(db.alias, PARTY_FIELDS, values)
        account.is_source = bool(is_source)
        if clocked:
            account.locked_at = row[-1]
        parties.append(account)
    if not clocked:
        _stamp(parties)
    return claimed, parties


# --- the posting's time -----------------------------------------------------------------------


def _with_clock(sql: str) -> str:
    """On PostgreSQL, the lock query wrapped so that each row also carries `locked_at`: the
    database's `clock_timestamp()`, read by the outer query as each row comes up from the
    inner one's LockRows, that is after the row's lock was granted (a subquery FOR UPDATE is
    never flattened into its parent). `now()` and `statement_timestamp()` would be read before
    a lock wait; the last row's `locked_at` is the moment every lock of the posting is held.
    Other databases: the SQL unchanged (see `_stamp`). Built once per lock query: the same
    text each time, which `_executable` then finds prepared."""
    db = _db()
    if db.vendor != "postgresql":
        return sql

    def make() -> str:
        q = db.ops.quote_name
        return (
            f"SELECT {q('locked')}.*, clock_timestamp() AS {q('locked_at')} "  # noqa: S608  # nosec B608  # wraps the ORM's own SQL; values stay parameters
            f"FROM ({sql}) AS {q('locked')} ORDER BY {q('locked')}.{q(_PK.column)}"
        )

    return _once(("clock", sql), make)


def _stamp(accounts: list[Account]) -> None:
    """`locked_at` for accounts locked by `_with_clock`'s SQL: PostgreSQL's column, already
    mapped by `raw()`; elsewhere (SQLite) the host's clock, read now. SQLite is one file on one
    host: every writer shares this clock, and a writer runs only inside its BEGIN IMMEDIATE,
    which waits for the previous writer's COMMIT, so a time read here is after the time of
    every posting already committed."""
    if connection.vendor == "postgresql":
        return
    moment = timezone.now()
    for account in accounts:
        account.locked_at = moment


def database_now() -> datetime:
    """The database's clock now, for a posting none of whose accounts came with a `locked_at`
    (the caller locked them another way): one more round trip on PostgreSQL, read after the
    caller's locks. The host's clock on SQLite, as in `_stamp`."""
    if connection.vendor != "postgresql":
        return timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


# --- prepared statements ---------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"%[s%]")
_statements: dict[str, tuple[str, str, str]] = {}  # SQL -> (name, PREPARE, EXECUTE)
_sessions: "weakref.WeakKeyDictionary[Any, set[str]]" = weakref.WeakKeyDictionary()
_sessions_lock = threading.Lock()


def _statement(sql: str) -> tuple[str, str, str]:
    """`sql`'s name, its PREPARE (each `%s` numbered `$n`, `%%` back to `%`) and its EXECUTE,
    which takes the same `%s` parameters in the same order."""
    found = _statements.get(sql)
    if found is None:
        count = 0

        def number(match: re.Match) -> str:
            nonlocal count
            if match.group() == "%%":
                return "%"
            count += 1
            return f"${count}"

        numbered = _PLACEHOLDER.sub(number, sql)
        name = "ledger_" + hashlib.sha256(sql.encode()).hexdigest()[:24]
        arguments = f"({', '.join(['%s'] * count)})" if count else ""
        found = _statements[sql] = (
            name,
            f"PREPARE {name} AS {numbered}",
            f"EXECUTE {name}{arguments}",
        )
    return found


def _executable(*sqls: str) -> list[str]:
    """What to send for each of `sqls` (see "Planned once" above): `EXECUTE name(%s, ...)` of
    the statement prepared in this database session, preparing it first (one more round trip,
    once per session and statement); the SQL itself elsewhere."""
    db = _db()
    if not (_one_trip(db) and settings.LEDGER_PREPARED_STATEMENTS):
        return list(sqls)
    if db.connection is None:
        db.ensure_connection()
    session = db.connection  # one psycopg connection is one database session
    prepared = _sessions.get(session)
    if prepared is None:
        with _sessions_lock:
            prepared = _sessions.setdefault(session, set())
    executes = []
    for sql in sqls:
        name, prepare, execute = _statement(sql)
        if name not in prepared:
            with db.cursor() as cursor:
                cursor.execute(prepare)  # no parameters: the text goes as it is
            prepared.add(name)  # PREPARE outlives a rollback of the transaction it ran in
        executes.append(execute)
    return executes


# --- writes -----------------------------------------------------------------------------------


_built: dict[tuple, Any] = {}  # SQL text built once per vendor and shape: names never change


def _once(key: tuple, make: Callable[[], Any]) -> Any:
    key = (_db().vendor, *key)
    if key not in _built:
        _built[key] = make()
    return _built[key]


def insert_rows(rows: list[Model]) -> Write:
    """INSERT new rows of one model as one statement, with the columns `bulk_create` writes."""
    db = _db()
    meta = rows[0]._meta

    def make() -> tuple[str, list[Field]]:
        fields = [field for field in meta.concrete_fields if not field.generated]
        q = db.ops.quote_name
        columns = ", ".join(q(field.column) for field in fields)
        row_marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = (
            f"INSERT INTO {q(meta.db_table)} ({columns}) "  # noqa: S608  # nosec B608  # quoted names from the model's metadata; every value is a parameter
            f"VALUES {', '.join([row_marks] * len(rows))}"
        )
        return sql, fields

    sql, fields = _once(("insert", meta.label, len(rows)), make)
    values = []
    for row in rows:
        if row.pk is None:
            raise ValueError("insert_rows writes rows whose primary key is already drawn.")
        for field in fields:
            value = field.pre_save(row, add=True)
            if hasattr(value, "resolve_expression"):  # a database default or an expression
                raise ValueError(f"{field} needs the ORM: its value is an SQL expression.")
            values.append(field.get_db_prep_save(value, db))
    return sql, values


def add_to_balance(account_id: UUID, amount: int) -> Write:
    """A relative balance update: correct whatever copy of the account the caller holds."""
    db = _db()

    def make() -> str:
        q = db.ops.quote_name
        table, balance, pk = q(Account._meta.db_table), q("balance"), q(_PK.column)
        return f"UPDATE {table} SET {balance} = {balance} + %s WHERE {pk} = %s"  # noqa: S608  # nosec B608  # quoted names from the model's metadata; values are parameters

    return _once(("balance",), make), [amount, _PK.get_db_prep_value(account_id, db)]


def add_to_held(account_id: UUID, amount: int) -> Write:
    """A relative update of the money a customer account holds for card authorisations (a
    negative `amount` releases it); the database's check keeps `balance - held >= 0`."""
    db = _db()

    def make() -> str:
        q = db.ops.quote_name
        table, held, pk = q(Account._meta.db_table), q("held"), q(_PK.column)
        return f"UPDATE {table} SET {held} = {held} + %s WHERE {pk} = %s"  # noqa: S608  # nosec B608  # quoted names from the model's metadata; values are parameters

    return _once(("held",), make), [amount, _PK.get_db_prep_value(account_id, db)]


def add_to_internal_balance(account_id: UUID, amount: int) -> Write:
    """An internal account's leg: `amount` added to one of its `InternalBalance.SHARDS` shard
    rows, picked at random, made if missing (INSERT ... ON CONFLICT DO UPDATE, relative like
    `add_to_balance`). The row stays locked until commit, but concurrent postings pick among
    SHARDS rows instead of all queueing on the account's one row."""
    db = _db()

    def make() -> str:
        meta = InternalBalance._meta
        q = db.ops.quote_name
        table = q(meta.db_table)
        account, shard, amount_ = (
            q(meta.get_field(name).column) for name in ("account", "shard", "amount")
        )
        return (
            f"INSERT INTO {table} ({account}, {shard}, {amount_}) VALUES (%s, %s, %s) "  # noqa: S608  # nosec B608  # quoted names from the model's metadata; values are parameters
            f"ON CONFLICT ({account}, {shard}) "
            f"DO UPDATE SET {amount_} = {table}.{amount_} + excluded.{amount_}"
        )

    shard = random.randrange(InternalBalance.SHARDS)  # noqa: S311  # nosec B311  # spreads load, guards nothing
    return _once(("internal-balance",), make), [
        _PK.get_db_prep_value(account_id, db),
        shard,
        amount,
    ]


def claim_key(*, scope: str, key: str, fingerprint: str, now) -> Write:
    """The INSERT that claims an idempotency key and returns the new row's id, or no row when
    the key is already taken (ON CONFLICT DO NOTHING; a concurrent claim waits for the first to
    commit). Sent alone by `insert_key`, or before the transfer's lock in one round trip."""
    db = _db()
    meta = IdempotencyKey._meta
    fields = [meta.get_field(name) for name in ("scope", "key", "fingerprint", "created_at")]

    def make() -> str:
        q = db.ops.quote_name
        columns = ", ".join(q(field.column) for field in fields)
        unique = ", ".join(q(field.column) for field in fields[:2])
        return (
            f"INSERT INTO {q(meta.db_table)} ({columns}) VALUES (%s, %s, %s, %s) "  # noqa: S608  # nosec B608  # quoted names from the model's metadata; values are parameters
            f"ON CONFLICT ({unique}) DO NOTHING RETURNING {q(meta.pk.column)}"
        )

    sql = _once(("claim",), make)
    values = [scope, key, fingerprint, now]
    return sql, [f.get_db_prep_save(v, db) for f, v in zip(fields, values, strict=True)]


def insert_key(claim: Write) -> int | None:
    """Send `claim_key`'s INSERT: the new row's id, or None when the key is already taken."""
    db = _db()
    sql, params = claim
    with db.cursor() as cursor:
        cursor.execute(*_executable(sql), params)
        row = cursor.fetchone()
    return row[0] if row else None


def complete_key(*, row_id: int, status: int, body: Any, txn: Transaction | None) -> Write:
    """The idempotency row's stored response, written with the posting it answers (None: an
    answer that posted nothing, e.g. the 202 of an approval request)."""
    db = _db()
    meta = IdempotencyKey._meta
    status_field = meta.get_field("response_status")
    body_field = meta.get_field("response_body")
    txn_field = meta.get_field("transaction")

    def make() -> str:
        q = db.ops.quote_name
        return (
            f"UPDATE {q(meta.db_table)} SET {q(status_field.column)} = %s, "  # noqa: S608  # nosec B608  # quoted names from the model's metadata; values are parameters
            f"{q(body_field.column)} = %s, {q(txn_field.column)} = %s "
            f"WHERE {q(meta.pk.column)} = %s"
        )

    return _once(("complete",), make), [
        status_field.get_db_prep_save(status, db),
        body_field.get_db_prep_save(body, db),
        txn_field.get_db_prep_save(txn.pk if txn is not None else None, db),
        row_id,
    ]


def _one_trip(db) -> bool:
    """Whether several statements may go in one round trip: on PostgreSQL with Django's
    default client-side binding, which sends a simple query (server-side binding sends one
    statement per call)."""
    return db.vendor == "postgresql" and not db.settings_dict["OPTIONS"].get("server_side_binding")


def send(writes: Iterable[Write]) -> None:
    """Run a posting's writes: one round trip on PostgreSQL, one statement at a time on the
    other databases (and on PostgreSQL with server-side binding, which takes one per call)."""
    db = _db()
    writes = list(writes)
    with db.cursor() as cursor:
        if _one_trip(db):
            cursor.execute(
                ";\n".join(_executable(*(sql for sql, _ in writes))),
                [param for _, params in writes for param in params],
            )
        else:
            for sql, params in writes:
                cursor.execute(sql, params)
