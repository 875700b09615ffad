"""`python -m bench statements`: a month's statement on an account with 1,000,000 entries
beside the same month on one with 10,000, as JSON, CSV and PDF, and the query plans.

The history is bulk-inserted (not through the API): one user, a large and a small EUR account
opened years ago, a partner account for transfers and the bank's settlement account, every
entry of a balanced two-leg transaction with a valid running balance on every account. The
current month and the month before hold exactly `--month-entries` entries on both accounts.
Each request goes through the whole Django stack in this process (middleware, JWT, throttle,
view, renderer), interleaved large/small so that noise hits both alike:

- the current month: open, computed live from the entries (the path whose cost must not grow
  with the history);
- the month before: issued on its first request (timed once), then served as issued.

Then `manage.py ledger_check`'s proof and the EXPLAIN plans of the statement's two queries.
PostgreSQL (default: bank_bench_statements on 127.0.0.1) or SQLite
(`--database-url sqlite:///var/bench/statements.sqlite3`). The history is kept between runs
and rebuilt when the month changed or with `--fresh`.
"""

import argparse
import heapq
import os
import platform
import random
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from bench.environment import ROOT
from bench.stats import percentile

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bank_bench_statements"
EMAIL = "bench-statements@bench.invalid"
BATCH = 5000  # transactions per bulk insert


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--entries", type=int, default=1_000_000, help="Large account (1e6).")
    parser.add_argument("--small", type=int, default=10_000, help="Small account (10,000).")
    parser.add_argument("--month-entries", type=int, default=1000, help="In each timed month.")
    parser.add_argument("--years", type=int, default=5, help="History spread over (5).")
    parser.add_argument("--rounds", type=int, default=40, help="Timed requests per case (40).")
    parser.add_argument("--fresh", action="store_true", help="Drop and rebuild the history.")


def say(message: str = "") -> None:
    print(message, flush=True)


def environment(database_url: str, redis_url: str) -> dict[str, str]:
    parts = urlsplit(database_url)
    if parts.scheme.startswith("postgres") and parts.hostname not in {"127.0.0.1", "localhost"}:
        raise SystemExit(f"The bench runs on this machine only, not against {parts.hostname!r}.")
    return {
        "DJANGO_SETTINGS_MODULE": "bankproject.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "CARD_PAN_KEYS": f"bench:{secrets.token_urlsafe(32)}",
        "CARD_CVC_KEY": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "testserver,127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "THROTTLE_USER": "1000000/min",
        "JWT_ACCESS_MINUTES": "240",
    }


def prepare_database(database_url: str, *, fresh: bool) -> None:
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        path = Path(parts.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    from bench.database import ensure_database

    ensure_database(database_url, fresh=fresh)


# --- the history ------------------------------------------------------------------------------


def _times(count: int, start: datetime, end: datetime, rng: random.Random) -> list[datetime]:
    """`count` distinct sorted instants in [start, end)."""
    span = int((end - start).total_seconds() * 1_000_000)
    offsets = sorted(rng.sample(range(span), count))
    return [start + timedelta(microseconds=o) for o in offsets]


def _schedule(total: int, month_entries: int, opened: datetime, previous, current, now, rng):
    """The account's entry times: the bulk of history, then the previous and current months."""
    bulk = total - 2 * month_entries
    return (
        _times(bulk, opened + timedelta(seconds=1), previous.start, rng)
        + _times(month_entries, previous.start, previous.end, rng)
        + _times(month_entries, current.start, now - timedelta(seconds=1), rng)
    )


def build(args, now: datetime) -> dict:
    """Bulk-insert the history; returns the two accounts and the user."""
    from django.db import connection, transaction

    from accounts.models import Holder, User
    from ledger.ids import uuid7
    from ledger.models import Account, Entry, Transaction
    from ledger.numbers import new_account_number
    from statements.periods import Period

    current = Period.of(now)
    previous = current.previous()
    opened = datetime(now.year - args.years, 1, 1, tzinfo=UTC)
    rng = random.Random(2026)
    user = User.objects.create_user(email=EMAIL, password=None)
    holder = Holder.objects.create(
        user=user, first_name="Bench", last_name="Holder", address="1 Bench Street\nTesttown"
    )
    partner_user = User.objects.create_user(email="bench-partner@bench.invalid", password=None)
    partner_holder = Holder.objects.create(user=partner_user, first_name="Pat", last_name="Ner")

    def account(holder, nickname, type="checking"):
        return Account.objects.create(
            holder=holder,
            type=type,
            currency="EUR",
            number=new_account_number(),
            nickname=nickname,
            created_at=opened,
        )

    large = account(holder, f"bench large {current}")
    small = account(holder, f"bench small {current}")
    partner = account(partner_holder, "bench partner")
    settlement = Account.objects.filter(type="internal", currency="EUR").first()
    if settlement is None:
        settlement = Account.objects.create(
            type="internal", currency="EUR", number=new_account_number(), created_at=opened
        )
    balances = {a.pk: a.balance for a in (large, small, partner, settlement)}

    events = heapq.merge(
        (
            (t, large)
            for t in _schedule(
                args.entries, args.month_entries, opened, previous, current, now, rng
            )
        ),
        (
            (t, small)
            for t in _schedule(args.small, args.month_entries, opened, previous, current, now, rng)
        ),
        key=lambda event: event[0],
    )
    # The partner starts with plenty, so transfers from it never run dry.
    seed_time = opened + timedelta(microseconds=1)
    pending_txns: list = []
    pending_entries: list = []

    # Rows as tuples, written with executemany: Django's own column names and its documented
    # Field.get_db_prep_value for the values, so the rows are what bulk_create would write
    # (at a fraction of its per-object cost).
    txn_fields = [
        Transaction._meta.get_field(n) for n in ("id", "kind", "description", "created_at")
    ]
    entry_fields = [
        Entry._meta.get_field(n)
        for n in (
            "id",
            "transaction",
            "account",
            "counterparty",
            "amount",
            "currency",
            "balance_after",
            "created_at",
        )
    ]
    created = Entry._meta.get_field("created_at")
    uuid_field = Entry._meta.get_field("id")

    def prep_uuid(value):
        return uuid_field.get_db_prep_value(value, connection)

    ids = {a.pk: prep_uuid(a.pk) for a in (large, small, partner, settlement)}

    # The bank's own account keeps no running balance (ledger.models.InternalBalance): its
    # entries' balance_after is NULL and its balance the sum of its entries.
    def post(kind, legs, moment, description):
        txn_id = prep_uuid(uuid7())
        when = created.get_db_prep_value(moment, connection)
        pending_txns.append((txn_id, kind, description, when))
        for index, (acct, amount) in enumerate(legs):
            balances[acct.pk] += amount
            other = legs[1 - index][0]
            pending_entries.append(
                (
                    prep_uuid(uuid7()),
                    txn_id,
                    ids[acct.pk],
                    ids[other.pk],
                    amount,
                    "EUR",
                    None if acct.pk == settlement.pk else balances[acct.pk],  # (see below)
                    when,
                )
            )

    def insert(model, fields, rows):
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)

    def flush():
        with transaction.atomic():
            insert(Transaction, txn_fields, pending_txns)
            insert(Entry, entry_fields, pending_entries)
        pending_txns.clear()
        pending_entries.clear()

    # The per-row deferred trigger checks each transaction at commit; ledger_check proves the
    # whole load after it instead. (Not inside an outer transaction, e.g. a test's, whose
    # pending deferred checks PostgreSQL would not let the ALTER pass.)
    switch_trigger = connection.vendor == "postgresql" and not connection.in_atomic_block
    if switch_trigger:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_balanced")
    started = time.perf_counter()
    total = args.entries + args.small
    post("deposit", [(partner, 10**14), (settlement, -(10**14))], seed_time, "Opening funds")
    merchants = ["Corner Cafe", "Green Grocer", "Book Nook", "Rail Tickets", "Pharmacy"]
    try:
        for done, (moment, acct) in enumerate(events, start=1):
            amount = rng.randint(1, 20_000)
            credit = balances[acct.pk] < amount or rng.random() < 0.5
            roll = rng.random()
            if credit and roll < 0.5:
                post("deposit", [(acct, amount), (settlement, -amount)], moment, "Cash in")
            elif credit:
                post("transfer", [(acct, amount), (partner, -amount)], moment, "Repayment")
            elif roll < 0.4:
                post(
                    "card_payment",
                    [(acct, -amount), (settlement, amount)],
                    moment,
                    rng.choice(merchants),
                )
            elif roll < 0.7:
                post("transfer", [(acct, -amount), (partner, amount)], moment, "Rent share")
            else:
                post("withdrawal", [(acct, -amount), (settlement, amount)], moment, "ATM")
            if len(pending_txns) >= BATCH:
                flush()
            if done % 100_000 == 0:
                rate = done / (time.perf_counter() - started)
                say(f"  {done:,}/{total:,} entries ({rate:,.0f}/s)")
        flush()
        for acct_id, balance in balances.items():
            Account.objects.filter(pk=acct_id).update(balance=balance)
    finally:
        if switch_trigger:
            with connection.cursor() as cursor:
                cursor.execute("ALTER TABLE ledger_entry ENABLE TRIGGER ledger_entry_balanced")
    say(f"  built {total:,} entries (+ their other legs) in {time.perf_counter() - started:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"user": user, "large": large, "small": small}


def existing(now: datetime) -> dict | None:
    from accounts.models import User
    from ledger.models import Account
    from statements.periods import Period

    user = User.objects.filter(email=EMAIL).first()
    if user is None:
        return None
    current = Period.of(now)
    large = Account.objects.filter(holder__user=user, nickname=f"bench large {current}").first()
    small = Account.objects.filter(holder__user=user, nickname=f"bench small {current}").first()
    if large is None or small is None:
        raise SystemExit("The bench history was built in another month: run with --fresh.")
    return {"user": user, "large": large, "small": small}


# --- the measurements -------------------------------------------------------------------------


def measure(args, accounts: dict, now: datetime) -> list[tuple]:
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import AccessToken

    from ledger.models import Entry
    from statements.models import Statement
    from statements.periods import Period

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(accounts['user'])}")
    current, previous = Period.of(now), Period.of(now).previous()
    sizes = {
        name: Entry.objects.filter(account=accounts[name]).count() for name in ("large", "small")
    }
    say(f"  entries: large {sizes['large']:,}, small {sizes['small']:,}")

    cpu: dict[tuple, list[float]] = {}

    def get(name: str, period, fmt: str) -> float:
        """Wall-clock seconds; this process's CPU time is kept beside it (less sensitive to
        other work on the machine; on PostgreSQL it leaves out the server's share)."""
        url = f"/api/v1/accounts/{accounts[name].pk}/statements/{period}/"
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(url, {"format": fmt})
        elapsed = time.perf_counter() - started
        cpu.setdefault((name, str(period), fmt), []).append(
            (time.process_time() - cpu_started) * 1000
        )
        if response.status_code != 200:
            raise SystemExit(f"{url}?format={fmt}: {response.status_code} {response.content!r}")
        return elapsed

    for name in ("large", "small"):  # the process's first requests warm Django up
        client.get(f"/api/v1/accounts/{accounts[name].pk}/statements/")

    # The previous month's first request issues it (once per history: issued is for good).
    mine = [accounts["large"], accounts["small"]]
    if Statement.objects.filter(period=str(previous), account__in=mine).exists():
        say(f"  {previous} was issued by an earlier run (issued statements never change)")
    else:
        issue = {name: get(name, previous, "json") * 1000 for name in ("small", "large")}
        say(
            f"  issuing {previous} on its first request: large {issue['large']:.1f} ms, "
            f"small {issue['small']:.1f} ms"
        )
    rows = []
    for label, period in ((f"{current} open (live)", current), (f"{previous} issued", previous)):
        for fmt in ("json", "csv", "pdf"):
            timings: dict[str, list[float]] = {"large": [], "small": []}
            rounds = args.rounds if fmt != "pdf" else max(10, args.rounds // 2)
            for _ in range(3):  # warm-up
                get("large", period, fmt), get("small", period, fmt)
            for i in range(rounds):
                order = ("large", "small") if i % 2 == 0 else ("small", "large")
                for name in order:
                    timings[name].append(get(name, period, fmt) * 1000)
            rows.append((label, fmt, timings["large"], timings["small"]))
            large_cpu = percentile(cpu[("large", str(period), fmt)][3:], 50)
            small_cpu = percentile(cpu[("small", str(period), fmt)][3:], 50)
            say(
                format_row(rows[-1])
                + f"   cpu p50 {large_cpu:.1f} / {small_cpu:.1f} ms ({large_cpu / small_cpu:.2f})"
            )
    return rows


def format_row(row) -> str:
    label, fmt, large, small = row
    lp50, lp95 = percentile(large, 50), percentile(large, 95)
    sp50, sp95 = percentile(small, 50), percentile(small, 95)
    return (
        f"  {label:24} {fmt:4}  large: p50 {lp50:7.1f} p95 {lp95:7.1f} ms   small: p50 {sp50:7.1f} "
        f"p95 {sp95:7.1f} ms   ratio p50 {lp50 / sp50:.2f} p95 {lp95 / sp95:.2f}"
    )


def plans(accounts: dict, now: datetime) -> None:
    from django.db import connection

    from ledger.models import Entry
    from statements.periods import Period
    from statements.selectors import month_rows

    account = accounts["large"]
    period = Period.of(now)
    opening = (
        Entry.objects.filter(account=account, created_at__lt=period.start)
        .order_by("-created_at", "-id")
        .values_list("balance_after", flat=True)[:1]
    )
    options = {"analyze": True} if connection.vendor == "postgresql" else {}
    for title, queryset in (
        ("opening balance (the last balance_after before the month)", opening),
        ("the month's entries, in posting order", month_rows(account, period)),
    ):
        say(f"\n  EXPLAIN {title}, {connection.vendor}, 1M-entry account:")
        for line in queryset.explain(**options).splitlines():
            say(f"    {line}")


def run(args: argparse.Namespace) -> int:
    env = environment(args.database_url, args.redis_url)
    say(f"bench statements on {platform.node()}: {os.cpu_count()} CPUs, load {os.getloadavg()}")
    say(f"  database {args.database_url}")
    prepare_database(args.database_url, fresh=args.fresh)
    os.environ.update(env)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.utils import timezone

    from bench.database import migrate
    from ledger.checks import check_ledger

    migrate()
    now = timezone.now()
    accounts = existing(now)
    if accounts is None:
        say(f"  building {args.entries:,} + {args.small:,} entries over {args.years} years")
        accounts = build(args, now)
        started = time.perf_counter()
        report = check_ledger()
        say(
            f"  ledger_check: {'clean' if report.ok else 'DIRTY'} over {report.entries:,} "
            f"entries ({time.perf_counter() - started:.0f} s)"
        )
        if not report.ok:
            say(str(report.problems))
            return 1
    measure(args, accounts, now)
    plans(accounts, now)
    return 0
