"""A bank workload with a crash, in the spirit of Jepsen's bank test.

One holder holds a dozen accounts (one frozen). gunicorn servers (two over PostgreSQL, one
over SQLite) serve the API; client threads make random transfers among the accounts (some
overdrawing, some into the frozen account), each request with its own Idempotency-Key, while
reader threads read every balance in one request (the holder's accounts list: one SELECT, one
snapshot). Midway the first server's whole process group is SIGKILLed and started again;
clients retry an unanswered request with the same key, on the next server, until it is
answered. `verify()` then checks, against the database: the total is unchanged, no balance
was ever seen negative, no reader saw another total, every key posted at most once, every 201
is in the ledger exactly once, `ledger_check` is clean, and no request got a 5xx (so no
"database is locked" or deadlock ever reached a client).

`ledger/tests/test_crash_workload.py` runs a bounded size in the suite;
`python -m bench crash` runs a larger one against its own database:

    python -m bench crash --transfers 5000                       # PostgreSQL, 2 servers
    python -m bench crash --database-url sqlite:////tmp/crash.sqlite3 --transfers 2000
"""

import argparse
import http.client
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bench.environment import DEFAULT_REDIS_URL, ROOT
from bench.web import free_port, wait_healthy

ACCOUNTS = 12
OPENING = 10_000  # minor units per account
RETRY_PAUSE = 0.05  # seconds between retries of an unanswered request


# --- the servers ------------------------------------------------------------------------------


def server_environment(
    *, database_url: str, signing_key: str, redis_url: str | None
) -> dict[str, str]:
    """Production mode over `database_url`; Redis as production runs it, or (None) the
    embedded default's database cache. Tokens are signed with `signing_key` by the caller."""
    env = {
        "DJANGO_SETTINGS_MODULE": "bankproject.settings",
        "DATABASE_URL": database_url,
        "DJANGO_ENV": "production",
        "SECRET_KEY": signing_key,
        "JWT_SIGNING_KEY": signing_key,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # production refuses to start without its card keys (bankproject/settings.py)
        "CARD_PAN_KEYS": f"crash:{secrets.token_urlsafe(32)}",
        "CARD_CVC_KEY": secrets.token_urlsafe(32),
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "GUNICORN_LOG_LEVEL": "warning",
        "THROTTLE_USER": "1000000/min",
        "REDIS_URL": redis_url or "",
    }
    return env


class Server:
    """gunicorn (bankproject/gunicorn.conf.py) in its own process group, on a spare port."""

    def __init__(self, env: dict[str, str], *, workers: int, threads: int, log_path: Path):
        self.env = {
            **os.environ,
            **env,
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_THREADS": str(threads),
        }
        self.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        self.port = free_port()
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--config",
                    str(ROOT / "bankproject" / "gunicorn.conf.py"),
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "bankproject.wsgi",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the master and its workers
            )
        wait_healthy(self.port, process=self.process)

    def kill(self) -> None:
        """SIGKILL the whole process group: the master and every worker, mid-request."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


# --- the clients ------------------------------------------------------------------------------


@dataclass
class Account:
    id: str
    number: str


@dataclass
class Report:
    statuses: Counter = field(default_factory=Counter)  # final answer of each transfer
    created: dict[str, str] = field(default_factory=dict)  # key -> transaction id of its 201
    keys: list[str] = field(default_factory=list)
    retries: int = 0
    replayed: int = 0
    server_errors: list[str] = field(default_factory=list)
    reads: int = 0
    read_totals: Counter = field(default_factory=Counter)
    negative: list[str] = field(default_factory=list)
    kills: list[str] = field(default_factory=list)
    seconds: float = 0.0


class Client:
    """Keep-alive connections to every server; a request goes to the next server in turn."""

    def __init__(self, ports: list[int], token: str, rng: random.Random):
        self.ports = ports
        self.token = token
        self.turn = rng.randrange(len(ports))
        self.connections: dict[int, http.client.HTTPConnection] = {}

    def send(self, method: str, path: str, body: bytes | None, headers: dict[str, str]):
        """(status, headers, body) from the next server, or None when it did not answer."""
        port = self.ports[self.turn % len(self.ports)]
        self.turn += 1
        conn = self.connections.get(port)
        if conn is None:
            conn = self.connections[port] = http.client.HTTPConnection(
                "127.0.0.1", port, timeout=30
            )
        try:
            conn.request(
                method,
                path,
                body=body,
                headers={"Authorization": f"Bearer {self.token}", **headers},
            )
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            del self.connections[port]
            return None

    def close(self) -> None:
        for conn in self.connections.values():
            conn.close()


def run(
    *,
    ports: list[int],
    token: str,
    accounts: list[Account],
    frozen: Account,
    total: int,
    transfers: int,
    clients: int = 16,
    readers: int = 2,
    crash: "callable | None" = None,
    seed: int = 0,
    say=print,
) -> Report:
    """`transfers` random transfers from `clients` threads and `readers` reading threads;
    `crash()` is called once, by a nemesis thread, when half the transfers are answered."""
    report = Report()
    lock = threading.Lock()
    answered = [0]
    half = threading.Event()
    done = threading.Event()
    per_client = [transfers // clients + (i < transfers % clients) for i in range(clients)]

    def transfer_worker(index: int) -> None:
        rng = random.Random(f"{seed}-client-{index}")
        client = Client(ports, token, rng)
        try:
            for _ in range(per_client[index]):
                source = rng.choice(accounts)
                destination = rng.choice([a for a in accounts if a.id != source.id])
                if rng.random() < 0.1:
                    destination = frozen if source is not frozen else destination
                amount = rng.choice(
                    [rng.randint(1, 500), rng.randint(500, 4_000), total + 1]  # the last: overdraws
                )
                key = uuid.uuid4().hex
                body = json.dumps(
                    {
                        "from_account": source.id,
                        "to_account_number": destination.number,
                        "amount": amount,
                    }
                ).encode()
                headers = {"Content-Type": "application/json", "Idempotency-Key": key}
                while True:  # until answered, with the same key
                    answer = client.send("POST", "/api/v1/transfers/", body, headers)
                    if answer is not None:
                        break
                    with lock:
                        report.retries += 1
                    time.sleep(RETRY_PAUSE)
                status, response_headers, content = answer
                with lock:
                    report.keys.append(key)
                    report.statuses[status] += 1
                    if status >= 500:
                        report.server_errors.append(f"{status} {content[:200]!r}")
                    if status == 201:
                        report.created[key] = json.loads(content)["id"]
                        if response_headers.get("Idempotent-Replayed") == "true":
                            report.replayed += 1
                    answered[0] += 1
                    if answered[0] >= transfers // 2:
                        half.set()
        finally:
            client.close()

    def reader(index: int) -> None:
        rng = random.Random(f"{seed}-reader-{index}")
        client = Client(ports, token, rng)
        try:
            while not done.is_set():
                answer = client.send("GET", "/api/v1/accounts/?limit=100", None, {})
                if answer is None:
                    time.sleep(RETRY_PAUSE)
                    continue
                status, _, content = answer
                with lock:
                    if status >= 500:
                        report.server_errors.append(f"read {status} {content[:200]!r}")
                        continue
                if status != 200:
                    continue
                rows = json.loads(content)["results"]
                seen_total = sum(row["balance"] for row in rows)
                with lock:
                    report.reads += 1
                    report.read_totals[seen_total] += 1
                    report.negative.extend(
                        f"{row['number']}: {row['balance']}"
                        for row in rows
                        if row["balance"] < 0 or row["available_balance"] < 0
                    )
        finally:
            client.close()

    def nemesis() -> None:
        half.wait()
        if crash is not None and not done.is_set():
            started = time.perf_counter()
            crash()
            report.kills.append(f"killed and restarted in {time.perf_counter() - started:.1f} s")
            say(f"  nemesis: {report.kills[-1]} after {answered[0]} answered transfers")

    started = time.perf_counter()
    threads = [threading.Thread(target=transfer_worker, args=(i,)) for i in range(clients)]
    reading = [threading.Thread(target=reader, args=(i,)) for i in range(readers)]
    chaos = threading.Thread(target=nemesis)
    for thread in [*threads, *reading, chaos]:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    half.set()
    for thread in [*reading, chaos]:
        thread.join()
    report.seconds = time.perf_counter() - started
    return report


# --- the checks -------------------------------------------------------------------------------


def verify(report: Report, *, accounts: list[Account], total: int) -> list[str]:
    """Every invariant of the module docstring, against the database this process uses."""
    from django.db.models import Count, Sum

    from ledger.checks import check_ledger
    from ledger.models import Account as AccountRow
    from ledger.models import IdempotencyKey, Transaction

    problems = []
    ids = [account.id for account in accounts]
    final = AccountRow.objects.filter(pk__in=ids).aggregate(total=Sum("balance"))["total"]
    if final != total:
        problems.append(f"the total is {final}, not {total}")
    if set(report.read_totals) - {total}:
        problems.append(f"readers saw totals {dict(report.read_totals)}, not only {total}")
    if report.negative:
        problems.append(f"balances seen below zero: {report.negative[:5]}")
    if report.server_errors:
        problems.append(f"{len(report.server_errors)} 5xx answers: {report.server_errors[:3]}")
    if len(set(report.keys)) != len(report.keys):
        problems.append("a key was used twice")

    transfers = Transaction.objects.filter(kind=Transaction.Kind.TRANSFER)
    keyed = IdempotencyKey.objects.filter(transaction__isnull=False)
    doubly_keyed = keyed.values("transaction").annotate(n=Count("id")).filter(n__gt=1)
    if transfers.count() != keyed.count() or doubly_keyed.exists():
        problems.append(
            f"{transfers.count()} transfers posted for {keyed.count()} keys that posted: "
            "a key posted more than once, or a posting without its key"
        )
    stored = dict(keyed.filter(key__in=report.created).values_list("key", "transaction_id"))
    lost = {k: t for k, t in report.created.items() if str(stored.get(k)) != t}
    if lost:
        problems.append(f"201s not in the ledger as answered: {list(lost.items())[:5]}")
    found = transfers.filter(pk__in=list(report.created.values())).count()
    if found != len(set(report.created.values())):
        problems.append(f"{len(report.created)} 201s, {found} of them in the ledger")
    if transfers.count() != len(report.created):
        problems.append(
            f"{transfers.count()} transfers in the ledger for {len(report.created)} 201s"
        )
    ledger = check_ledger()
    if not ledger.ok:
        problems.append(f"ledger_check: {ledger.problems}")
    return problems


# --- the fixture and the command ----------------------------------------------------------------


def open_accounts(*, lifetime: timedelta = timedelta(hours=2)) -> tuple[str, list, Account, int]:
    """A holder with ACCOUNTS funded accounts, the last one frozen, through the services:
    (their access token, the accounts, the frozen one, the total they hold)."""
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from ledger import services

    user = User.objects.create_user(email=f"crash-{uuid.uuid4().hex[:12]}@bench.invalid")
    rows = []
    for i in range(ACCOUNTS):
        row = services.open_account(owner=user, type="checking", currency="EUR")
        services.deposit(account=row, amount=OPENING, initiated_by=None, description="Crash")
        rows.append(Account(id=str(row.pk), number=row.number))
        if i == ACCOUNTS - 1:
            services.freeze_account(account=row, reason="crash workload", by=None)
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=lifetime)
    return str(token), rows, rows[-1], OPENING * ACCOUNTS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/bank_crash",
        help="PostgreSQL (dropped and made afresh) or sqlite:////path (one server).",
    )
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--transfers", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument(
        "--servers", type=int, help="gunicorn servers (2 on PostgreSQL, 1 on SQLite)."
    )
    parser.add_argument("--workers", type=int, default=2, help="Workers per server (2).")
    parser.add_argument("--threads", type=int, default=2, help="Threads per worker (2).")
    parser.add_argument("--no-crash", action="store_true", help="Run without the SIGKILL.")


def run_command(args: argparse.Namespace) -> int:
    import secrets

    from bench import database

    sqlite = args.database_url.startswith("sqlite:")
    if sqlite:
        path = Path(args.database_url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        database.ensure_database(args.database_url, fresh=True)
    key = secrets.token_urlsafe(50)
    env = server_environment(
        database_url=args.database_url,
        signing_key=key,
        redis_url=None if sqlite else args.redis_url,
    )
    os.environ.update(env)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    database.migrate()
    token, accounts, frozen, total = open_accounts()
    from django.db import connection

    connection.close()
    log = Path(os.environ.get("VAR_DIR", "var")) / "bench" / "crash.log"
    servers = [
        Server(env, workers=args.workers, threads=args.threads, log_path=log)
        for _ in range(args.servers or (1 if sqlite else 2))
    ]
    print(
        f"crash workload: {len(servers)} server(s) x {args.workers} workers x {args.threads} "
        f"threads over {args.database_url}; {args.transfers} transfers from {args.clients} "
        f"clients, {args.readers} readers (log {log})",
        flush=True,
    )
    try:
        for server in servers:
            server.start()

        def crash() -> None:
            servers[0].kill()
            servers[0].start()

        report = run(
            ports=[server.port for server in servers],
            token=token,
            accounts=accounts,
            frozen=frozen,
            total=total,
            transfers=args.transfers,
            clients=args.clients,
            readers=args.readers,
            crash=None if args.no_crash else crash,
        )
    finally:
        for server in servers:
            server.stop()
    problems = verify(report, accounts=accounts, total=total)
    connection.close()
    print(summary(report))
    for problem in problems:
        print(f"  PROBLEM: {problem}")
    print("all invariants hold" if not problems else f"{len(problems)} invariant(s) broken")
    return 1 if problems else 0


def summary(report: Report) -> str:
    answered = sum(report.statuses.values())
    return (
        f"  {answered} transfers answered in {report.seconds:.1f} s "
        f"({answered / report.seconds:.0f}/s): {dict(sorted(report.statuses.items()))}; "
        f"{report.retries} retries of unanswered requests, {report.replayed} replayed 201s; "
        f"{report.reads} consistent reads; {', '.join(report.kills) or 'no crash'}"
    )
