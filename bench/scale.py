"""`python -m bench scale`: the bank at a million entries.

Builds a ledger of `--entries` entries (1,000,000) over `--accounts` customer accounts (10,000)
in the bench's own PostgreSQL database (`bank_scale`, dropped and rebuilt with `--fresh`):
one funding deposit per account from the bank's EUR settlement account, then transfers between
random accounts, one account in twenty transfers also touching a "deep" account (so it has a
history tens of thousands of entries long), all in time order over the past year. Rows go in
by `bulk_create`, with the running `balance_after` computed as they are made; the bank's own
account keeps `balance_after` NULL and its balance in an InternalBalance shard, as
`ledger.services.post` leaves it. On PostgreSQL the load runs with
`session_replication_role = replica` (no per-row triggers: the append-only guards and the
deferred zero-sum check would fire a million times); `ledger_check` then proves the books,
timed at a tenth of the entries and at all of them.

Then, in this process through the full Django stack (django.test.Client: middleware, JWT,
session, serializers, templates), p50/p95 over `--samples` requests of: an account's first
history page, a deep cursor page of the deep account (found by walking its `next` links) beside
that account's first page, the dashboard, the accounts list, a transfer; and on PostgreSQL the
EXPLAIN (ANALYZE) of every SELECT each one runs. `--entries 2000 --accounts 50` is the smoke
size the test suite runs on SQLite (tests/test_bench_scale.py).

`--reuse` skips the build: it measures the ledger an earlier run left in the database (one
`ledger_check` at its size instead of the two timed ones), so a change can be measured before
and after on the same million entries without minutes of loading each time. Each run adds its
`--samples` one-unit transfers to that ledger.
"""

import argparse
import os
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bench import database
from bench.environment import DEFAULT_REDIS_URL, bench_environment, setup_django
from bench.stats import percentile

DEFAULT_SCALE_URL = "postgres://postgres@127.0.0.1:5432/bank_scale"
FUND = 10**9  # minor units per account: transfers of at most 10,000 can never run dry
DEEP_EVERY = 20  # one transfer in twenty also pays or is paid by the deep account
BATCH = 5000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", default=DEFAULT_SCALE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=50, help="Requests per figure (50).")
    built = parser.add_mutually_exclusive_group()
    built.add_argument("--fresh", action="store_true", help="Drop and rebuild the database.")
    built.add_argument(
        "--reuse", action="store_true", help="Measure the ledger an earlier run built; no build."
    )
    parser.add_argument("--no-explain", action="store_true")


# --- building ---------------------------------------------------------------------------


@dataclass
class Ledger:
    """What the builder knows between batches: every account's running balance."""

    settlement: object
    accounts: list  # customer Account rows, the deep one last
    users: list
    balances: dict = field(default_factory=dict)  # account pk -> running balance
    internal: int = 0  # the settlement account's sum of entries
    entries: int = 0
    clock: datetime | None = None
    step: timedelta = timedelta(seconds=1)


def _customers(count: int, say) -> tuple[list, list]:
    from django.contrib.auth.hashers import make_password

    from accounts.models import Holder, User
    from ledger.models import Account
    from ledger.numbers import check_digits

    run = uuid.uuid4().hex[:8]
    users = User.objects.bulk_create(
        [
            User(email=f"scale-{run}-{i}@scale.invalid", password=make_password(None))
            for i in range(count)
        ],
        batch_size=BATCH,
    )
    holders = Holder.objects.bulk_create(
        [Holder(user=u, first_name="Scale", last_name=str(i)) for i, u in enumerate(users)],
        batch_size=BATCH,
    )
    taken = set(Account.objects.values_list("number", flat=True))
    rng = random.Random(run)
    numbers: list[str] = []
    while len(numbers) < count:
        body = f"{rng.randrange(10_000_000, 100_000_000)}"
        number = body + check_digits(body)
        if number not in taken:
            taken.add(number)
            numbers.append(number)
    start = datetime.now(UTC) - timedelta(days=400)
    accounts = Account.objects.bulk_create(
        [
            Account(holder=h, type="checking", currency="EUR", number=n, created_at=start)
            for h, n in zip(holders, numbers, strict=True)
        ],
        batch_size=BATCH,
    )
    say(f"  {count} customers, holders and EUR accounts")
    return users, accounts


def start_ledger(accounts: int, total_entries: int, say) -> Ledger:
    from ledger.services import settlement_account

    users, rows = _customers(accounts, say)
    year = timedelta(days=365)
    transactions = max(total_entries // 2, 1)
    return Ledger(
        settlement=settlement_account("EUR"),
        accounts=rows,
        users=users,
        balances={a.pk: 0 for a in rows},
        clock=datetime.now(UTC) - year,
        step=year / (transactions + 10),
    )


def existing_ledger(say) -> Ledger:
    """The ledger an earlier run built in this database, as `start_ledger` and `grow` left it
    (customers in their order, the deep account last), for `--reuse`."""
    from django.db.models import Max

    from accounts.models import User
    from ledger.models import Account, Entry
    from ledger.services import settlement_account

    runs: dict[str, dict[int, User]] = {}
    for user in User.objects.filter(email__startswith="scale-", email__endswith="@scale.invalid"):
        run, index = user.email.removesuffix("@scale.invalid").split("-")[1:]
        runs.setdefault(run, {})[int(index)] = user
    if len(runs) != 1:
        raise SystemExit(
            f"--reuse needs the ledger of exactly one earlier run here; found {len(runs)}: "
            "build one with --fresh."
        )
    (by_index,) = runs.values()
    users = [by_index[i] for i in sorted(by_index)]
    account_of = {
        a.holder.user_id: a
        for a in Account.objects.customer()
        .filter(holder__user__email__endswith="@scale.invalid")
        .select_related("holder")
    }
    accounts = [account_of[u.pk] for u in users]
    deep = accounts[-1]
    # The deep account is never a transfer's payee in `measure`: its last entry is the build's.
    clock = Entry.objects.filter(account=deep).aggregate(last=Max("created_at"))["last"]
    ledger = Ledger(
        settlement=settlement_account("EUR"),
        accounts=accounts,
        users=users,
        balances={a.pk: a.balance for a in accounts},
        entries=Entry.objects.count(),
        clock=clock,
    )
    say(f"  reusing {ledger.entries} entries over {len(accounts)} accounts")
    return ledger


def grow(ledger: Ledger, target_entries: int, rng: random.Random) -> None:
    """Append transactions until the ledger holds `target_entries` entries: first one funding
    deposit per account, then transfers; balances and balance_after kept in step."""
    from django.db import connection, transaction

    from ledger.models import Entry, InternalBalance, Transaction

    settlement = ledger.settlement
    deep = ledger.accounts[-1]
    funded = ledger.entries // 2  # deposits come first, one per account
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # no per-row triggers for the bulk load
                cursor.execute("SET LOCAL session_replication_role = replica")
        while ledger.entries < target_entries:
            txns, entries = [], []
            while len(entries) < BATCH and ledger.entries + len(entries) < target_entries:
                ledger.clock += ledger.step
                at = ledger.clock
                if funded < len(ledger.accounts):
                    account = ledger.accounts[funded]
                    funded += 1
                    txn = Transaction(kind="deposit", description="Scale funding", created_at=at)
                    legs = [(account, FUND, settlement), (settlement, -FUND, account)]
                else:
                    n = len(ledger.accounts)
                    i = rng.randrange(n - 1)
                    j = n - 1 if rng.randrange(DEEP_EVERY) == 0 else rng.randrange(n - 1)
                    if i == j:
                        j = (j + 1) % (n - 1)
                    source, destination = ledger.accounts[i], ledger.accounts[j]
                    if rng.random() < 0.5 and destination is deep:
                        source, destination = destination, source
                    amount = rng.randint(1, 10_000)
                    txn = Transaction(kind="transfer", description="Scale", created_at=at)
                    legs = [(source, -amount, destination), (destination, amount, source)]
                txns.append(txn)
                for account, amount, other in legs:
                    if account is settlement:
                        ledger.internal += amount
                        after = None
                    else:
                        after = ledger.balances[account.pk] + amount
                        ledger.balances[account.pk] = after
                    entries.append(
                        Entry(
                            transaction=txn,
                            account=account,
                            counterparty=other,
                            amount=amount,
                            currency="EUR",
                            balance_after=after,
                            created_at=at,
                        )
                    )
            Transaction.objects.bulk_create(txns, batch_size=BATCH)
            Entry.objects.bulk_create(entries, batch_size=BATCH)
            ledger.entries += len(entries)
        # The settlement account's balance lives in its shards (ledger.services.post).
        shard, _ = InternalBalance.objects.get_or_create(account=settlement, shard=0)
        InternalBalance.objects.filter(pk=shard.pk).update(
            amount=ledger.internal - settlement.balance
        )
        for account in ledger.accounts:
            account.balance = ledger.balances[account.pk]
        type(deep).objects.bulk_update(ledger.accounts, ["balance"], batch_size=BATCH)


def time_ledger_check() -> tuple[float, bool]:
    from ledger.checks import check_ledger

    started = time.perf_counter()
    report = check_ledger()
    return time.perf_counter() - started, report.ok


# --- measuring --------------------------------------------------------------------------


@dataclass
class Figure:
    name: str
    timings: list[float] = field(default_factory=list)  # seconds
    queries: list[str] = field(default_factory=list)  # one request's SQL
    plans: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def p50_ms(self) -> float:
        return (percentile(self.timings, 50) or 0) * 1000

    @property
    def p95_ms(self) -> float:
        return (percentile(self.timings, 95) or 0) * 1000


def _clients(host: str):
    from django.test import Client
    from rest_framework.test import APIClient

    return APIClient(HTTP_HOST=host), Client(HTTP_HOST=host)


def _token(user) -> str:
    from rest_framework_simplejwt.tokens import AccessToken

    return str(AccessToken.for_user(user))


def _timed(figure: Figure, call, samples: int, expect: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = call(0)
    if response.status_code != expect:
        raise RuntimeError(f"{figure.name}: HTTP {response.status_code} {response.content[:200]!r}")
    figure.queries = [q["sql"] for q in captured.captured_queries if q["sql"]]
    for i in range(samples):
        started = time.perf_counter()
        response = call(i + 1)
        figure.timings.append(time.perf_counter() - started)
        if response.status_code != expect:
            raise RuntimeError(f"{figure.name}: HTTP {response.status_code}")


def explain(figure: Figure) -> None:
    """EXPLAIN ANALYZE of each SELECT of one request (PostgreSQL)."""
    from django.db import connection

    seen = set()
    for sql in figure.queries:
        if not sql.lstrip().upper().startswith("SELECT") or sql in seen or "FOR UPDATE" in sql:
            continue
        seen.add(sql)
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + sql)
            plan = "\n".join(f"    {row[0]}" for row in cursor.fetchall())
        figure.plans.append(f"  {sql[:300]}{'...' if len(sql) > 300 else ''}\n{plan}")


def measure(ledger: Ledger, *, samples: int, host: str, rng: random.Random) -> list[Figure]:
    from django.conf import settings
    from django.db import connection

    api, browser = _clients(host)
    deep = ledger.accounts[-1]
    deep_user = ledger.users[-1]
    picks = [rng.randrange(len(ledger.accounts) - 1) for _ in range(samples + 1)]
    tokens: dict[int, str] = {}

    def as_customer(i: int):
        index = picks[i % len(picks)]
        if index not in tokens:
            tokens[index] = _token(ledger.users[index])
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[index]}")
        return ledger.accounts[index], ledger.users[index]

    figures = []

    first = Figure("history, first page (25)")

    def history(i):
        account, _ = as_customer(i)
        return api.get(f"/api/v1/accounts/{account.pk}/transactions/")

    _timed(first, history, samples, 200)
    figures.append(first)

    # The deep account: walk its history to the end with the largest page, then time its
    # first page and that last page at the same size.
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {_token(deep_user)}")
    url = f"/api/v1/accounts/{deep.pk}/transactions/?limit=100"
    pages, deep_url = 0, url
    while url:
        response = api.get(url)
        pages += 1
        deep_url = url
        url = response.json()["next"]
    deep_entries = ledger_entries_of(deep)
    for name, target in (
        ("deep account, first page (100)", f"/api/v1/accounts/{deep.pk}/transactions/?limit=100"),
        (f"deep account, page {pages} (100)", deep_url),
    ):
        figure = Figure(name, note=f"{deep_entries} entries")
        _timed(figure, lambda _i, target=target: api.get(target), samples, 200)
        figures.append(figure)

    listing = Figure("accounts list")

    def accounts_list(i):
        as_customer(i)
        return api.get("/api/v1/accounts/")

    _timed(listing, accounts_list, samples, 200)
    figures.append(listing)

    # One browser, as one server process serves every customer: a test Client per customer
    # would load the middleware (WhiteNoise indexing every static file) inside its first,
    # timed, request. Each customer's session is made before the clock starts, and the browser
    # presents the one of the customer it plays.
    cookie = settings.SESSION_COOKIE_NAME
    sessions = {}
    for index in {*picks, len(ledger.users) - 1}:
        browser.cookies.pop(cookie, None)  # a new session: login() would flush the last one
        browser.force_login(
            ledger.users[index], backend="django.contrib.auth.backends.ModelBackend"
        )
        sessions[index] = browser.cookies[cookie].value

    def dashboard_of(index: int):
        browser.cookies[cookie] = sessions[index]
        return browser.get("/dashboard/")

    board = Figure("dashboard page")
    _timed(board, lambda i: dashboard_of(picks[i % len(picks)]), samples, 200)
    figures.append(board)

    # The deep account's holder: a dashboard whose account has tens of thousands of entries.
    deep_board = Figure("dashboard page, deep account", note=f"{deep_entries} entries")
    _timed(deep_board, lambda _i: dashboard_of(len(ledger.users) - 1), samples, 200)
    figures.append(deep_board)

    statements = Figure("a month's statement", note="the statements app is not installed")
    if _statements_available():
        statements.note = ""

        def statement(i):
            account, _ = as_customer(i)
            period = (ledger.clock - timedelta(days=40)).strftime("%Y-%m")
            return api.get(f"/api/v1/accounts/{account.pk}/statements/{period}/")

        _timed(statements, statement, samples, 200)
    figures.append(statements)

    transfer = Figure("a transfer (POST)")

    def pay(i):
        account, _ = as_customer(i)
        payee = ledger.accounts[(picks[i % len(picks)] + 1) % (len(ledger.accounts) - 1)]
        return api.post(
            "/api/v1/transfers/",
            {"from_account": str(account.pk), "to_account_number": payee.number, "amount": 1},
            format="json",
            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
        )

    _timed(transfer, pay, samples, 201)
    figures.append(transfer)

    if connection.vendor == "postgresql":
        for figure in figures:
            explain(figure)
    return figures


def ledger_entries_of(account) -> int:
    from ledger.models import Entry

    return Entry.objects.filter(account=account).count()


def _statements_available() -> bool:
    from django.urls import NoReverseMatch, reverse

    try:
        reverse("api:account-statements", kwargs={"pk": uuid.uuid4()})
    except NoReverseMatch:
        return False
    return True


def report(figures: list[Figure], checks: list[tuple[int, float, bool]], *, explain=True) -> str:
    lines = [f"{'request':34} {'p50 ms':>8} {'p95 ms':>8}  queries  note"]
    for f in figures:
        if not f.timings:
            lines.append(f"{f.name:34} {'-':>8} {'-':>8}  {'-':>7}  {f.note}")
            continue
        lines.append(f"{f.name:34} {f.p50_ms:8.1f} {f.p95_ms:8.1f}  {len(f.queries):7d}  {f.note}")
    lines.append("")
    lines.append("ledger_check:")
    for entries, seconds, ok in checks:
        lines.append(f"  {entries:>9} entries: {seconds:.2f} s ({'clean' if ok else 'NOT CLEAN'})")
    if len(checks) == 2 and checks[0][1]:
        (small, t_small, _), (big, t_big, _) = checks
        growth, limit = t_big / t_small, 1.1 * big / small
        verdict = "linear" if growth <= limit else "NOT LINEAR"
        lines.append(
            f"  {big / small:.0f}x the entries took {growth:.1f}x the time "
            f"(at most {limit:.0f}x: {verdict})"
        )
    if explain:
        lines.append("")
        lines.append("EXPLAIN ANALYZE of each SELECT (one request of each):")
        for f in figures:
            if f.plans:
                lines.append(f"- {f.name}")
                lines.extend(f.plans)
    return "\n".join(lines)


def build_and_measure(
    *, entries: int, accounts: int, samples: int, host: str, say=print, explain_plans=True
) -> tuple[list[Figure], list[tuple[int, float, bool]]]:
    """The whole benchmark on the current database (the command's, or a test's)."""
    rng = random.Random(2026)
    started = time.perf_counter()
    ledger = start_ledger(accounts, entries, say)
    checks = []
    for target in (entries // 10, entries):
        grow(ledger, target, rng)
        say(f"  {ledger.entries} entries after {time.perf_counter() - started:.0f} s")
        analyze()
        seconds, ok = time_ledger_check()
        checks.append((ledger.entries, seconds, ok))
        say(f"  ledger_check at {ledger.entries}: {seconds:.2f} s, {'clean' if ok else 'DIRTY'}")
    figures = measure(ledger, samples=samples, host=host, rng=rng)
    return figures, checks


def reuse_and_measure(
    *, samples: int, host: str, say=print
) -> tuple[list[Figure], list[tuple[int, float, bool]]]:
    """The measuring half of `build_and_measure`, on the ledger already in the database."""
    ledger = existing_ledger(say)
    analyze()
    seconds, ok = time_ledger_check()
    say(f"  ledger_check at {ledger.entries}: {seconds:.2f} s, {'clean' if ok else 'DIRTY'}")
    figures = measure(ledger, samples=samples, host=host, rng=random.Random(2026))
    return figures, [(ledger.entries, seconds, ok)]


def analyze() -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def run(args: argparse.Namespace) -> int:
    env = bench_environment(database_url=args.database_url, redis_url=args.redis_url)
    env["ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    database.ensure_database(args.database_url, fresh=args.fresh)
    setup_django(env)
    database.migrate()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)  # production's manifest

    def say(message: str) -> None:
        print(message, flush=True)

    if args.reuse:
        say(f"bench scale: the ledger already built, load {os.getloadavg()}")
        figures, checks = reuse_and_measure(samples=args.samples, host="localhost", say=say)
    else:
        say(
            f"bench scale: {args.entries} entries over {args.accounts} accounts, load "
            f"{os.getloadavg()}"
        )
        figures, checks = build_and_measure(
            entries=args.entries,
            accounts=args.accounts,
            samples=args.samples,
            host="localhost",
            say=say,
        )
    print()
    print(report(figures, checks, explain=not args.no_explain))
    return 0 if all(ok for _, _, ok in checks) else 1
