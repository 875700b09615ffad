"""Which server a read goes to: the primary (`default`), or the PostgreSQL streaming replica
(`replica`, present only when `DATABASE_REPLICA_URL` is set).

The contract:

- Every write goes to the primary, and so does every read, unless a read-only selector asks
  for the replica by name: `.using(read_db(user))`, or `.using(same_db(row))` for rows that
  belong with a row it already read (an account's entries). Nothing else reads the replica:
  authentication, sessions, throttles, the cache table, idempotency keys, the services with
  their locks (`select_for_update`) and ledger/posting_sql.py (which uses `connection`, the
  primary) all stay on the primary.
- `read_db` answers `replica` only inside `replica_reads()`, which
  core.middleware.ReplicaReadsMiddleware opens for safe requests (GET, HEAD, OPTIONS); never
  inside a transaction on the primary (a money-moving service reads what it locked); and only
  when the replica answers and is at most REPLICA_MAX_LAG_SECONDS behind. Anywhere else
  (commands, the shell, a POST, tests without a replica) every read is on the primary.
- Read your writes: after an unsafe request by a signed-in user, `note_write` keeps the
  primary's WAL position (`pg_current_wal_lsn()`) in the shared cache under that user for
  REPLICA_PIN_SECONDS. Until the replica has replayed past it (`pg_last_wal_replay_lsn()`),
  that user's reads go to the primary. A position, not a time window: it holds whatever the
  lag, in every worker and on every host, and a replica cut off from its primary (whose lag
  then looks like zero) still never shows anyone their own write missing.
- One decision per user per request, so one page never mixes two servers' views.
- Fallback: the first read-only selector of a request probes the replica (one round trip:
  its lag, and whether it has the user's last write). A replica that does not answer is
  left alone for REPLICA_RETRY_SECONDS in this process while the primary serves; one that
  lags beyond the bound is skipped for this request. A replica that fails after the probe,
  mid-request, is noted by `replica_reads()`; the middleware then marks it down the same way
  and answers the request again from the primary (a safe request reads only, so running it
  twice changes nothing). Either way the request is answered.
- The router: writes always to the primary; a row read from the replica keeps its related
  rows (`entry.account`) on the replica within the same read-only request, and every other
  read goes to the primary; migrations run only on the primary (`allow_migrate`).
"""

import contextvars
import time
from contextlib import contextmanager, suppress
from typing import Any

import structlog
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

logger = structlog.get_logger(__name__)

PRIMARY = DEFAULT_DB_ALIAS
REPLICA = "replica"

# On the replica, in one round trip: how many seconds behind its primary it is (0 when it has
# replayed all it received; while WAL waits, the age of the last transaction it replayed), and
# whether it has replayed past a given position of the primary's WAL (NULL: no position).
PROBE_SQL = """
SELECT CASE
         WHEN pg_last_wal_receive_lsn() IS NULL
           OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
         ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
       END,
       COALESCE(pg_last_wal_replay_lsn() >= %s::pg_lsn, false)
"""


class _Reads:
    """A read-only request's decisions (user pk -> alias), and whether a statement on the
    replica failed."""

    def __init__(self) -> None:
        self.decided: dict[Any, str] = {}
        self.replica_failed = False


_reads: contextvars.ContextVar[_Reads | None] = contextvars.ContextVar(
    "replica_reads", default=None
)
# Process-local, on purpose: each worker finds a dead replica by itself, at the cost of one
# connection attempt per REPLICA_RETRY_SECONDS.
_down_until = 0.0


def replica_configured() -> bool:
    return REPLICA in connections


@contextmanager
def replica_reads():
    """The block only reads: its read-only selectors may read the replica. Yields the block's
    `_Reads`, whose `replica_failed` says afterwards whether a statement on the replica raised
    a database error (the replica went away after the probe)."""
    reads = _Reads()
    token = _reads.set(reads)

    def watch(execute, sql, params, many, context):
        try:
            return execute(sql, params, many, context)
        except DatabaseError:
            reads.replica_failed = True
            raise

    try:
        if replica_configured():
            with connections[REPLICA].execute_wrapper(watch):
                yield reads
        else:
            yield reads
    finally:
        _reads.reset(token)


def mark_replica_down() -> None:
    """The primary serves every read of this process for REPLICA_RETRY_SECONDS."""
    global _down_until
    _down_until = time.monotonic() + settings.REPLICA_RETRY_SECONDS
    logger.warning("replica_unavailable", retry_in=settings.REPLICA_RETRY_SECONDS)


def _replica_allowed() -> bool:
    return (
        _reads.get() is not None
        and replica_configured()
        and not connections[PRIMARY].in_atomic_block
    )


def read_db(user: Any) -> str:
    """The alias a read-only selector reads `user`'s rows from."""
    if not _replica_allowed():
        return PRIMARY
    decided = _reads.get().decided
    if user.pk not in decided:
        decided[user.pk] = _choose(user)
    return decided[user.pk]


def same_db(instance: Any) -> str:
    """The alias for rows that belong with `instance`: the server it was read from, while
    replica reads are still allowed."""
    return REPLICA if instance._state.db == REPLICA and _replica_allowed() else PRIMARY


def _pin_key(user_pk: Any) -> str:
    return f"replica-pin:{user_pk}"


def _choose(user: Any) -> str:
    if time.monotonic() < _down_until:
        return PRIMARY
    mark = cache.get(_pin_key(user.pk))  # None: no recent write; "": a write at no known position
    try:
        lag, caught_up = _probe(mark or None)
    except DatabaseError:
        mark_replica_down()
        return PRIMARY
    if lag > settings.REPLICA_MAX_LAG_SECONDS:
        logger.info("replica_lagging", lag=round(lag, 3))
        return PRIMARY
    if mark is not None and not caught_up:
        return PRIMARY  # the replica has not replayed this user's last write yet
    return REPLICA


def _probe(position: str | None) -> tuple[float, bool]:
    """(lag in seconds, replayed past `position`) from the replica. A stale connection (the
    replica restarted) is closed and tried once more; DatabaseError when it does not answer."""
    for attempt in (1, 2):
        replica = connections[REPLICA]
        try:
            with replica.cursor() as cursor:
                if replica.vendor != "postgresql":  # a test's second alias: no WAL to compare
                    cursor.execute("SELECT 1")
                    return 0.0, False
                cursor.execute(PROBE_SQL, [position])
                lag, caught_up = cursor.fetchone()
                return float(lag), bool(caught_up)
        except DatabaseError:
            with suppress(DatabaseError):
                replica.close()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def note_write(user: Any) -> None:
    """After `user`'s write commits: their reads go to the primary until the replica has
    replayed it (core.middleware calls this after every unsafe request of a signed-in user)."""
    if not replica_configured() or user.pk is None:
        return
    key = _pin_key(user.pk)
    transaction.on_commit(
        lambda: cache.set(key, _primary_position(), settings.REPLICA_PIN_SECONDS), using=PRIMARY
    )


def _primary_position() -> str:
    """The primary's WAL position now, past every transaction committed so far; "" where
    there is none (SQLite): the user then reads the primary for the whole pin."""
    primary = connections[PRIMARY]
    if primary.vendor != "postgresql":
        return ""
    try:
        with primary.cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()::text")
            return cursor.fetchone()[0]
    except DatabaseError:
        return ""


def replica_status() -> str | None:
    """For /readyz, never fatal: None without a replica, else `ok`, `lagging` or
    `unavailable`."""
    if not replica_configured():
        return None
    try:
        lag, _ = _probe(None)
    except DatabaseError:
        return "unavailable"
    return "lagging" if lag > settings.REPLICA_MAX_LAG_SECONDS else "ok"


class PrimaryReplicaRouter:
    """DATABASE_ROUTERS when a replica is configured (bankproject/settings.py)."""

    def db_for_read(self, model, **hints) -> str:
        instance = hints.get("instance")
        if instance is not None and instance._state.db == REPLICA and _replica_allowed():
            return REPLICA
        return PRIMARY

    def db_for_write(self, model, **hints) -> str:
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # one database, two copies of it

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == PRIMARY
