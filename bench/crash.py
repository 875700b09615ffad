"""A bank workload with a crash, in the spirit of Jepsen's bank test.

One holder holds a dozen accounts (one frozen), and debit cards on several of them: active
ones (one with a low daily limit), a frozen card, and a card on the frozen account. gunicorn
servers (two over PostgreSQL, one over SQLite) serve the API. Client threads make random
requests, each money-moving one with its own Idempotency-Key: transfers among the accounts
(some overdrawing, some into the frozen account), card payments (some over the balance or
the daily limit, some with a frozen card: 402 `card_declined`, which posts nothing),
authorisations (holds), full, partial and over-the-rest captures of the holds the client
made, and voids of them. Reader threads read every balance in one request (the holder's
accounts list: one SELECT, one snapshot), and a snapshot reader reads the books in one
SELECT of the database. Midway the first server's whole process group is SIGKILLed and
started again; clients retry an unanswered request with the same key, on the next server,
until it is answered.

Card payments take money out of the dozen accounts into the bank's settlement account, so
the fixed total is the customers' total plus what their cards paid. A customer's API read
shows only the customers' side, so it cannot check that total by itself: the snapshot reader
checks it exactly, in one statement over the accounts, the settlement account's shards, the
card payments and the holds; the API reads are checked as exactly as what they show allows.
`verify()` checks, against the database:

- the customers hold the opening total less exactly what the approved payments and captures
  (their 201s) took, and the settlement account received exactly that;
- each snapshot read saw the customers' total plus the card payments it saw equal the opening
  total, the customers' total plus the settlement's ledger balance fixed, and `held` equal to
  what the open holds hold;
- each API read saw no balance and no available balance below zero, a balance that account
  really had (a `balance_after` of its history), and a total whose shortfall from the opening
  total lies between none and what the cards took in the end and never shrinks from one read
  to a later one (what left the accounts never comes back; without cards: no shortfall at all,
  the classic check);
- every key posted at most once and every posting is a key's; every 201 is in the ledger
  exactly once, as answered (its debit on the account and of the amount it named, a card
  payment's record beside it); every hold is as its last answer left it (amount, captured,
  status) and its captures add up; each account's `held` is what its open holds hold and
  its available balance is not below zero; `ledger_check` is clean; each request got an
  answer its kind allows (no 5xx, so no "database is locked" or deadlock reached a client).

`ledger/tests/test_crash_workload.py` runs a bounded size in the suite;
`python -m bench crash` runs a larger one against its own database:

    python -m bench crash --transfers 5000                       # PostgreSQL, 2 servers
    python -m bench crash --database-url sqlite:////tmp/crash.sqlite3 --transfers 2000
    python -m bench crash --no-cards                             # transfers only
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
from bisect import bisect_left
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bench.environment import DEFAULT_REDIS_URL, ROOT
from bench.web import free_port, wait_healthy

ACCOUNTS = 12
OPENING = 10_000  # minor units per account
LOW_LIMIT = 1_500  # the daily limit of one card, which its payments soon reach
RETRY_PAUSE = 0.05  # seconds between retries of an unanswered request
SNAPSHOT_PAUSE = 0.01  # seconds between the snapshot reader's reads: CPU for the servers

# What each kind of request may answer; anything else is a problem (a 409, a 429, a 5xx...).
ALLOWED = {
    "transfer": {201, 422},  # 422: insufficient_funds, account_inactive (the frozen account)
    "payment": {201, 402},
    "authorize": {201, 402},
    "capture": {201, 400},  # 400: more than remains held (sent on purpose, now and then)
    "void": {200, 422},  # 422 only to a retry whose first attempt voided it (see `void`)
}
CARD_KINDS = ("payment", "capture")  # the postings that take money to the settlement account


# --- the servers ------------------------------------------------------------------------------


def server_environment(
    *,
    database_url: str,
    signing_key: str,
    redis_url: str | None,
    card_keys: tuple[dict[str, str], str] | None = None,
) -> dict[str, str]:
    """Production mode over `database_url`; Redis as production runs it, or (None) the
    embedded default's database cache. Tokens are signed with `signing_key` by the caller.
    `card_keys` (CARD_PAN_KEYS as a dict, CARD_CVC_KEY) are those the workload's cards were
    issued under; None: fresh ones, for a caller that issues its cards under this
    environment."""
    if card_keys is None:
        card_keys = ({"crash": secrets.token_urlsafe(32)}, secrets.token_urlsafe(32))
    pan_keys, cvc_key = card_keys
    return {
        "DJANGO_SETTINGS_MODULE": "bankproject.settings",
        "DATABASE_URL": database_url,
        "DJANGO_ENV": "production",
        "SECRET_KEY": signing_key,
        "JWT_SIGNING_KEY": signing_key,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # production refuses to start without its card keys (bankproject/settings.py)
        "CARD_PAN_KEYS": ",".join(f"{key_id}:{key}" for key_id, key in pan_keys.items()),
        "CARD_CVC_KEY": cvc_key,
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "GUNICORN_LOG_LEVEL": "warning",
        # every client comes from 127.0.0.1: the card endpoints are anonymous, per address
        "THROTTLE_USER": "1000000/min",
        "THROTTLE_ANON": "1000000/min",
        "THROTTLE_CARD_PAYMENT": "1000000/min",
        "REDIS_URL": redis_url or "",
    }


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


# --- the bank the workload runs in --------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    id: str
    number: str


@dataclass(frozen=True)
class Card:
    """A card's data as a merchant holds them: in this process's memory only, never printed
    (`repr` leaves them out) nor stored."""

    id: str
    account: Account
    pan: str = field(repr=False)
    expiry_month: int
    expiry_year: int
    cvc: str = field(repr=False)
    pays: bool  # False: its payments are declined whatever the amount (card_inactive)

    def data(self) -> dict:
        return {
            "pan": self.pan,
            "expiry_month": self.expiry_month,
            "expiry_year": self.expiry_year,
            "cvc": self.cvc,
        }


@dataclass
class Bank:
    """What the workload starts from: the holder's token, the accounts (the last frozen), the
    cards (none with `cards=False`), the total the accounts hold, and the bank's settlement
    account with its ledger balance then."""

    token: str
    accounts: list[Account]
    frozen: Account
    total: int
    cards: list[Card]
    settlement: str
    settlement_start: int


def open_bank(*, cards: bool = True, lifetime: timedelta = timedelta(hours=2)) -> Bank:
    """A holder with ACCOUNTS funded accounts, the last one frozen, through the services; with
    `cards`, a card on each of the first six accounts (the second's daily limit LOW_LIMIT),
    a frozen card on the seventh and a card on the frozen account, issued before it froze."""
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from cards import services as cards_service
    from ledger import services

    user = User.objects.create_user(email=f"crash-{uuid.uuid4().hex[:12]}@bench.invalid")
    rows = []
    for _ in range(ACCOUNTS):
        row = services.open_account(owner=user, type="checking", currency="EUR")
        services.deposit(account=row, amount=OPENING, initiated_by=None, description="Crash")
        rows.append(row)
    accounts = [Account(id=str(row.pk), number=row.number) for row in rows]

    issued = []
    if cards:
        plan = [(i, LOW_LIMIT if i == 1 else None) for i in range(6)]
        plan += [(6, None), (ACCOUNTS - 1, None)]
        for index, limit in plan:
            new = cards_service.issue_card(owner=user, account_id=rows[index].pk, daily_limit=limit)
            if index == 6:
                cards_service.freeze_card(card=new.card)
            issued.append(
                Card(
                    id=str(new.card.pk),
                    account=accounts[index],
                    pan=new.pan,
                    expiry_month=new.card.expiry_month,
                    expiry_year=new.card.expiry_year,
                    cvc=new.cvc,
                    pays=index < 6,
                )
            )
    services.freeze_account(account=rows[-1], reason="crash workload", by=None)
    settlement = services.settlement_account("EUR")
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=lifetime)
    return Bank(
        token=str(token),
        accounts=accounts,
        frozen=accounts[-1],
        total=OPENING * ACCOUNTS,
        cards=issued,
        settlement=str(settlement.pk),
        settlement_start=settlement.ledger_balance(),
    )


# --- what the clients saw -------------------------------------------------------------------------


@dataclass
class Posting:
    """A 201 that posted: a transfer, a card payment or a capture (of `hold`)."""

    kind: str
    transaction: str
    account: str  # the account it debited
    amount: int
    hold: str | None = None


@dataclass
class Hold:
    """An authorisation as its client last saw it answered."""

    id: str
    key: str
    card: str
    account: str
    amount: int
    captured: int = 0
    status: str = "pending"

    @property
    def remaining(self) -> int:
        return self.amount - self.captured if self.status == "pending" else 0


@dataclass(frozen=True)
class Read:
    """One API read of every balance: when it was sent and answered, the total it saw."""

    sent: float
    answered: float
    total: int


@dataclass
class Report:
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    declines: Counter = field(default_factory=Counter)  # (kind, 402's details.reason)
    postings: dict[str, Posting] = field(default_factory=dict)  # key -> what its 201 posted
    holds: dict[str, Hold] = field(default_factory=dict)  # authorisation id -> its hold
    keys: list[str] = field(default_factory=list)
    retries: int = 0
    replayed: int = 0
    lost_voids: int = 0  # voids whose answer was lost and whose retry found them voided
    server_errors: list[str] = field(default_factory=list)
    surprises: list[str] = field(default_factory=list)  # answers the client's own state rules out
    reads: list[Read] = field(default_factory=list)
    seen: set[tuple[str, int]] = field(default_factory=set)  # (account id, balance) read
    negative: list[str] = field(default_factory=list)
    snapshots: int = 0
    snapshot_problems: list[str] = field(default_factory=list)
    kills: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def answered(self) -> int:
        return sum(sum(counter.values()) for counter in self.statuses.values())

    @property
    def card_out(self) -> int:
        """What the approved card payments and captures took from the customers."""
        return sum(p.amount for p in self.postings.values() if p.kind in CARD_KINDS)


# --- the clients ------------------------------------------------------------------------------


class Client:
    """Keep-alive connections to every server; a request goes to the next server in turn."""

    def __init__(self, ports: list[int], token: str, rng: random.Random):
        self.ports = ports
        self.token = token
        self.turn = rng.randrange(len(ports))
        self.connections: dict[int, http.client.HTTPConnection] = {}

    def send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str], *, auth=True
    ):
        """(status, headers, body) from the next server, or None when it did not answer.
        `auth=False`: a merchant's call, whose credential is the card data in the body."""
        port = self.ports[self.turn % len(self.ports)]
        self.turn += 1
        conn = self.connections.get(port)
        if conn is None:
            conn = self.connections[port] = http.client.HTTPConnection(
                "127.0.0.1", port, timeout=30
            )
        if auth:
            headers = {"Authorization": f"Bearer {self.token}", **headers}
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            del self.connections[port]
            return None

    def close(self) -> None:
        for conn in self.connections.values():
            conn.close()


def error(data) -> dict:
    """The error envelope's inside ({} for any other answer)."""
    inside = data.get("error") if isinstance(data, dict) else None
    return inside if isinstance(inside, dict) else {}


class Worker:
    """One client thread's requests. Each money-moving request has its own key and is sent
    until answered, with the same key; the holds it made are its own to capture and void."""

    def __init__(
        self, *, bank: Bank, ports: list[int], report: Report, lock, seed: str, client=None
    ):
        """`client`: anything with Client's `send` and `close` (the tests' in-process one);
        by default a Client of the servers on `ports`."""
        self.bank = bank
        self.report = report
        self.lock = lock
        self.rng = random.Random(seed)
        self.client = client or Client(ports, bank.token, self.rng)
        self.open: list[Hold] = []  # this client's pending holds
        self.paying = [card for card in bank.cards if card.pays]
        self.declining = [card for card in bank.cards if not card.pays]

    def step(self) -> None:
        if not self.bank.cards:
            return self.transfer()
        roll = self.rng.random()
        if roll < 0.5:
            return self.transfer()
        if roll < 0.66:
            return self.pay()
        if roll < 0.8 or not self.open:
            return self.authorize()
        if roll < 0.92:
            return self.capture()
        return self.void()

    def close(self) -> None:
        self.client.close()

    # --- sending ----------------------------------------------------------------------------

    def send(self, kind: str, path: str, payload: dict, *, key: str | None, auth: bool = True):
        """(status, the answer's JSON, whether it was sent more than once). `key`: its own
        Idempotency-Key, the same on every retry (None for a void, which takes none)."""
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if key is not None:
            headers["Idempotency-Key"] = key
            with self.lock:
                self.report.keys.append(key)
        retried = False
        while True:  # until answered, with the same key
            answer = self.client.send("POST", path, body, headers, auth=auth)
            if answer is not None:
                break
            retried = True
            with self.lock:
                self.report.retries += 1
            time.sleep(RETRY_PAUSE)
        status, response_headers, content = answer
        with self.lock:
            self.report.statuses[kind][status] += 1
            if status >= 500:
                self.report.server_errors.append(f"{kind} {status} {content[:200]!r}")
            if status == 201 and response_headers.get("Idempotent-Replayed") == "true":
                self.report.replayed += 1
        try:
            data = json.loads(content)
        except ValueError:
            data = {}
        if status == 402:
            with self.lock:
                self.report.declines[kind, error(data).get("details", {}).get("reason")] += 1
        return status, data, retried

    def amount(self) -> int:
        """A card amount: mostly small (the cards must not drain the accounts before the
        transfers are done), now and then over the balance (50,000: within the daily limit,
        more than an account holds unless transfers piled money on it), or over every daily
        limit (more than CARD_DAILY_LIMIT_MAX)."""
        rng = self.rng
        return rng.choice(
            [rng.randint(1, 60), rng.randint(1, 60), rng.randint(60, 400), 50_000, 10**6 + 1]
        )

    def card(self) -> Card:
        if self.rng.random() < 0.1:
            return self.rng.choice(self.declining)
        return self.rng.choice(self.paying)

    # --- the requests ------------------------------------------------------------------------

    def transfer(self) -> None:
        rng, accounts, frozen = self.rng, self.bank.accounts, self.bank.frozen
        source = rng.choice(accounts)
        destination = rng.choice([a for a in accounts if a.id != source.id])
        if rng.random() < 0.1:
            destination = frozen if source is not frozen else destination
        amount = rng.choice(
            [rng.randint(1, 500), rng.randint(500, 4_000), self.bank.total + 1]  # overdraws
        )
        key = uuid.uuid4().hex
        payload = {
            "from_account": source.id,
            "to_account_number": destination.number,
            "amount": amount,
        }
        status, data, _ = self.send("transfer", "/api/v1/transfers/", payload, key=key)
        if status == 201:
            self.posted(key, Posting("transfer", data["id"], source.id, amount))

    def pay(self) -> None:
        card, amount, key = self.card(), self.amount(), uuid.uuid4().hex
        payload = {**card.data(), "amount": amount, "merchant": "Crash Cafe"}
        status, data, _ = self.send(
            "payment", "/api/v1/card-payments/", payload, key=key, auth=False
        )
        if status == 201:
            self.posted(key, Posting("payment", data["id"], card.account.id, amount))

    def authorize(self) -> None:
        card, amount, key = self.card(), self.amount(), uuid.uuid4().hex
        payload = {**card.data(), "amount": amount, "merchant": "Crash Hotel"}
        status, data, _ = self.send(
            "authorize", "/api/v1/card-authorizations/", payload, key=key, auth=False
        )
        if status == 201:
            hold = Hold(data["id"], key, card.id, card.account.id, amount)
            self.open.append(hold)
            with self.lock:
                self.report.holds[hold.id] = hold

    def capture(self) -> None:
        """All that remains, a part, or (now and then) one more than remains: a 400."""
        hold = self.rng.choice(self.open)
        remaining = hold.amount - hold.captured
        self.capture_of(
            hold, self.rng.choice([None, self.rng.randint(1, remaining), remaining + 1])
        )

    def capture_of(self, hold: Hold, amount: int | None) -> None:
        """Capture `amount` of this client's open `hold` (None: all that remains)."""
        card = next(card for card in self.bank.cards if card.id == hold.card)
        remaining = hold.amount - hold.captured
        payload = card.data() | ({} if amount is None else {"amount": amount})
        key = uuid.uuid4().hex
        path = f"/api/v1/card-authorizations/{hold.id}/capture/"
        status, data, _ = self.send("capture", path, payload, key=key, auth=False)
        taken = remaining if amount is None else amount
        if amount is not None and amount > remaining:
            if status != 400:
                self.surprise(f"capture of {amount} of {hold.id} ({remaining} left): {status}")
            return
        if status != 201 or data["captured_amount"] != hold.captured + taken:
            self.surprise(f"capture of {taken} of {hold.id} ({remaining} left): {status} {data}")
            return
        hold.captured += taken
        hold.status = data["status"]
        if hold.status != "pending":
            self.open.remove(hold)
        self.posted(key, Posting("capture", data["transaction_id"], hold.account, taken, hold.id))

    def void(self) -> None:
        self.void_of(self.rng.choice(self.open))

    def void_of(self, hold: Hold) -> None:
        """Void this client's open `hold`. A void takes no key: a retry of one whose answer
        was lost finds the hold voided already (422 `authorization_closed`), which only that
        lost attempt can have done, since only this client captures or voids its holds."""
        card = next(card for card in self.bank.cards if card.id == hold.card)
        path = f"/api/v1/card-authorizations/{hold.id}/void/"
        status, data, retried = self.send("void", path, card.data(), key=None, auth=False)
        closed = status == 422 and error(data).get("code") == "authorization_closed"
        if not (status == 200 or (retried and closed)):
            self.surprise(f"void of {hold.id}: {status} {data} (retried: {retried})")
            return
        if status == 422:
            with self.lock:
                self.report.lost_voids += 1
        hold.status = "voided"
        self.open.remove(hold)

    def posted(self, key: str, posting: Posting) -> None:
        with self.lock:
            self.report.postings[key] = posting

    def surprise(self, message: str) -> None:
        with self.lock:
            self.report.surprises.append(message)


def run(
    *,
    ports: list[int],
    bank: Bank,
    operations: int,
    clients: int = 16,
    readers: int = 2,
    crash: "callable | None" = None,
    seed: int = 0,
    say=print,
) -> Report:
    """`operations` random requests from `clients` threads, `readers` threads reading every
    balance over the API and one reading the books' snapshot from the database; `crash()` is
    called once, by a nemesis thread, when half the requests are answered."""
    report = Report()
    lock = threading.Lock()
    half = threading.Event()
    done = threading.Event()
    per_client = [operations // clients + (i < operations % clients) for i in range(clients)]

    def client_worker(index: int) -> None:
        worker = Worker(
            bank=bank, ports=ports, report=report, lock=lock, seed=f"{seed}-client-{index}"
        )
        try:
            for _ in range(per_client[index]):
                worker.step()
                with lock:
                    if report.answered >= operations // 2:
                        half.set()
        finally:
            worker.close()

    def reader(index: int) -> None:
        rng = random.Random(f"{seed}-reader-{index}")
        client = Client(ports, bank.token, rng)
        try:
            while not done.is_set():
                sent = time.monotonic()
                answer = client.send("GET", "/api/v1/accounts/?limit=100", None, {})
                if answer is None:
                    time.sleep(RETRY_PAUSE)
                    continue
                answered = time.monotonic()
                status, _, content = answer
                if status >= 500:
                    with lock:
                        report.server_errors.append(f"read {status} {content[:200]!r}")
                    continue
                if status != 200:
                    continue
                rows = json.loads(content)["results"]
                with lock:
                    report.reads.append(Read(sent, answered, sum(r["balance"] for r in rows)))
                    report.seen.update((row["id"], row["balance"]) for row in rows)
                    report.negative.extend(
                        f"{row['number']}: balance {row['balance']}, "
                        f"available {row['available_balance']}"
                        for row in rows
                        if row["balance"] < 0 or row["available_balance"] < 0
                    )
        finally:
            client.close()

    def snapshot_reader() -> None:
        from django.db import connection

        try:
            while not done.is_set():
                problem = snapshot_problem(bank)
                with lock:
                    report.snapshots += 1
                    if problem:
                        report.snapshot_problems.append(problem)
                time.sleep(SNAPSHOT_PAUSE)
        finally:
            connection.close()

    def nemesis() -> None:
        half.wait()
        if crash is not None and not done.is_set():
            started = time.perf_counter()
            crash()
            with lock:
                report.kills.append(
                    f"killed and restarted in {time.perf_counter() - started:.1f} s"
                )
                answered = report.answered
            say(f"  nemesis: {report.kills[-1]} after {answered} answered requests")

    started = time.perf_counter()
    threads = [threading.Thread(target=client_worker, args=(i,)) for i in range(clients)]
    reading = [threading.Thread(target=reader, args=(i,)) for i in range(readers)]
    reading.append(threading.Thread(target=snapshot_reader))
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


def _sum(queryset, expression):
    """SUM(expression) over `queryset` as a scalar subquery (0 when empty), so that several
    sums are read by one SELECT: one snapshot of the database."""
    from django.db.models import BigIntegerField, Func, Subquery, Value
    from django.db.models.functions import Coalesce

    total = Func(expression, function="SUM", output_field=BigIntegerField())
    return Coalesce(
        Subquery(queryset.order_by().annotate(total=total).values("total")[:1]), Value(0)
    )


def snapshot_problem(bank: Bank) -> str | None:
    """What one SELECT of the books (one snapshot) shows wrong, or None: the customers' total
    plus the card payments recorded on their cards must be the opening total; plus the
    settlement account's ledger balance, the opening total plus its opening balance (what
    left the customers arrived there, in the same transaction); and the customers' `held`,
    what their open holds hold."""
    from django.db.models import F

    from cards.models import CardAuthorization, CardPayment
    from ledger.models import Account as AccountRow
    from ledger.models import InternalBalance

    customers = AccountRow.objects.filter(pk__in=[a.id for a in bank.accounts])
    cards = [card.id for card in bank.cards]
    balance, shards, customers_total, held, paid, holding = (
        AccountRow.objects.filter(pk=bank.settlement)
        .annotate(
            shards=_sum(InternalBalance.objects.filter(account=bank.settlement), F("amount")),
            customers=_sum(customers, F("balance")),
            customers_held=_sum(customers, F("held")),
            paid=_sum(CardPayment.objects.filter(card__in=cards), F("amount")),
            holding=_sum(
                CardAuthorization.objects.open().filter(card__in=cards),
                F("amount") - F("captured_amount"),
            ),
        )
        .values_list("balance", "shards", "customers", "customers_held", "paid", "holding")
        .get()
    )
    settled = balance + shards - bank.settlement_start
    broken = []
    if customers_total + paid != bank.total:
        broken.append(f"customers {customers_total} + card payments {paid} is not {bank.total}")
    if customers_total + settled != bank.total:
        broken.append(
            f"customers {customers_total} + what the settlement account received {settled} "
            f"is not {bank.total}"
        )
    if held != holding:
        broken.append(f"held {held}, but the open holds hold {holding}")
    return "; ".join(broken) or None


def reader_problems(report: Report, *, total: int) -> list[str]:
    """The API reads: each read's shortfall from the opening total (what the cards had taken
    when it read) is within what they took in the end, and a read sent after another was
    answered never saw less taken than it did."""
    problems = []
    out = report.card_out
    outside = [r.total for r in report.reads if not 0 <= total - r.total <= out]
    if outside:
        problems.append(
            f"readers saw totals {sorted(set(outside))[:5]}, outside {total - out}..{total} "
            f"(the opening total less from none to all of the {out} the cards took)"
        )
    by_answer = sorted(report.reads, key=lambda r: r.answered)
    answered_at = [r.answered for r in by_answer]
    most_taken, taken = [], 0  # most_taken[i]: the most taken by a read answered i-th or sooner
    for r in by_answer:
        taken = max(taken, total - r.total)
        most_taken.append(taken)
    going_back = []
    for r in report.reads:
        before = bisect_left(answered_at, r.sent)  # reads answered before this one was sent
        if before and total - r.total < most_taken[before - 1]:
            going_back.append(f"{r.total} after a read of {total - most_taken[before - 1]}")
    if going_back:
        problems.append(f"a later read saw money come back: {going_back[:3]}")
    return problems


def verify(report: Report, bank: Bank) -> list[str]:
    """Every invariant of the module docstring, against the database this process uses."""
    from django.db.models import Count, Sum

    from cards.models import CardAuthorization, CardPayment
    from ledger.checks import check_ledger
    from ledger.models import Account as AccountRow
    from ledger.models import Entry, IdempotencyKey, Transaction

    problems = []
    ids = [account.id for account in bank.accounts]
    rows = AccountRow.objects.filter(pk__in=ids)
    out = report.card_out

    # The money: what left the customers is what the approved card postings took, and it is
    # in the settlement account.
    final = rows.aggregate(total=Sum("balance"))["total"]
    if final != bank.total - out:
        problems.append(
            f"the total is {final}, not {bank.total} less the {out} the approved card "
            "payments and captures took"
        )
    settled = AccountRow.objects.get(pk=bank.settlement).ledger_balance() - bank.settlement_start
    if settled != out:
        problems.append(f"the settlement account received {settled}, not the cards' {out}")
    if problem := snapshot_problem(bank):
        problems.append(f"at the end: {problem}")

    # What the readers saw.
    problems += reader_problems(report, total=bank.total)
    if report.snapshot_problems:
        problems.append(
            f"{len(report.snapshot_problems)} of {report.snapshots} snapshots broken: "
            f"{report.snapshot_problems[:3]}"
        )
    if report.negative:
        problems.append(f"balances seen below zero: {report.negative[:5]}")
    had = {
        (str(account), balance)
        for account, balance in Entry.objects.filter(account__in=ids).values_list(
            "account", "balance_after"
        )
    }
    never = sorted(report.seen - had)
    if never:
        problems.append(f"readers saw balances the accounts never had: {never[:5]}")

    # Every answer is one its request allows.
    if report.server_errors:
        problems.append(f"{len(report.server_errors)} 5xx answers: {report.server_errors[:3]}")
    unexpected = {
        kind: sorted(set(counter) - ALLOWED[kind])
        for kind, counter in report.statuses.items()
        if set(counter) - ALLOWED[kind]
    }
    if unexpected:
        problems.append(f"answers their requests do not allow: {unexpected}")
    if report.surprises:
        problems.append(f"answers the client's holds rule out: {report.surprises[:3]}")
    if len(set(report.keys)) != len(report.keys):
        problems.append("a key was used twice")

    # Every posting is one key's, and every 201 is in the ledger once, as answered.
    posted = Transaction.objects.filter(
        kind__in=[Transaction.Kind.TRANSFER, Transaction.Kind.CARD_PAYMENT]
    )
    keyed = IdempotencyKey.objects.filter(transaction__isnull=False)
    doubly_keyed = keyed.values("transaction").annotate(n=Count("id")).filter(n__gt=1)
    if posted.count() != keyed.count() or doubly_keyed.exists():
        problems.append(
            f"{posted.count()} transfers and card payments posted for {keyed.count()} keys "
            "that posted: a key posted more than once, or a posting without its key"
        )
    if posted.count() != len(report.postings):
        problems.append(
            f"{posted.count()} transfers and card payments in the ledger for "
            f"{len(report.postings)} 201s"
        )
    stored = dict(keyed.filter(key__in=report.postings).values_list("key", "transaction"))
    lost = {
        k: p.transaction for k, p in report.postings.items() if str(stored.get(k)) != p.transaction
    }
    if lost:
        problems.append(f"201s not in the ledger as answered: {list(lost.items())[:5]}")
    answered = {p.transaction: p for p in report.postings.values()}
    debits = {
        str(txn): (str(account), -amount)
        for txn, account, amount in Entry.objects.filter(
            transaction__in=list(answered), amount__lt=0
        ).values_list("transaction", "account", "amount")
    }
    wrong = [t for t, p in answered.items() if debits.get(t) != (p.account, p.amount)]
    if wrong:
        problems.append(f"postings not debiting the account and amount answered: {wrong[:5]}")
    records = {
        str(txn): (amount, authorization and str(authorization))
        for txn, amount, authorization in CardPayment.objects.values_list(
            "transaction", "amount", "authorization"
        )
    }
    cards_answered = {t: (p.amount, p.hold) for t, p in answered.items() if p.kind in CARD_KINDS}
    if records != cards_answered:
        odd = sorted(set(records.items()) ^ set(cards_answered.items()))
        problems.append(f"card payment records that differ from the 201s: {odd[:5]}")

    # Every hold is as its last answer left it, and the accounts hold what their holds hold.
    rows_of_holds = {
        str(pk): (amount, captured, status)
        for pk, amount, captured, status in CardAuthorization.objects.filter(
            card__in=[card.id for card in bank.cards]
        ).values_list("pk", "amount", "captured_amount", "status")
    }
    seen_holds = {h.id: (h.amount, h.captured, h.status) for h in report.holds.values()}
    if rows_of_holds != seen_holds:
        odd = sorted(set(rows_of_holds.items()) ^ set(seen_holds.items()))
        problems.append(f"holds that differ from their answers: {odd[:5]}")
    claimed = dict(
        IdempotencyKey.objects.filter(key__in=[h.key for h in report.holds.values()]).values_list(
            "key", "response_body"
        )
    )
    unclaimed = [
        h.id for h in report.holds.values() if (claimed.get(h.key) or {}).get("id") != h.id
    ]
    if unclaimed:
        problems.append(f"authorisations whose key does not answer them: {unclaimed[:5]}")
    captured = {
        str(authorization): total
        for authorization, total in CardPayment.objects.filter(authorization__isnull=False)
        .values("authorization")
        .annotate(total=Sum("amount"))
        .values_list("authorization", "total")
    }
    off = [h.id for h in report.holds.values() if captured.get(h.id, 0) != h.captured]
    if off:
        problems.append(f"holds whose captures do not add up to what they captured: {off[:5]}")
    holding = Counter()
    for hold in report.holds.values():
        holding[hold.account] += hold.remaining
    for pk, number, balance, held in rows.values_list("pk", "number", "balance", "held"):
        if held != holding[str(pk)]:
            problems.append(f"{number} holds {held}, its open holds {holding[str(pk)]}")
        if balance - held < 0:
            problems.append(f"{number}: available balance {balance - held}")

    ledger = check_ledger()
    if not ledger.ok:
        problems.append(f"ledger_check: { {k: v for k, v in ledger.problems.items() if v} }")
    return problems


# --- the command ---------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/bank_crash",
        help="PostgreSQL (dropped and made afresh) or sqlite:////path (one server).",
    )
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument(
        "--transfers",
        "--operations",
        dest="operations",
        type=int,
        default=5000,
        help="Client requests: transfers, card payments, authorisations, captures, voids.",
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument(
        "--servers", type=int, help="gunicorn servers (2 on PostgreSQL, 1 on SQLite)."
    )
    parser.add_argument("--workers", type=int, default=2, help="Workers per server (2).")
    parser.add_argument("--threads", type=int, default=2, help="Threads per worker (2).")
    parser.add_argument("--no-crash", action="store_true", help="Run without the SIGKILL.")
    parser.add_argument(
        "--no-cards", action="store_true", help="Transfers only: no cards, no holds."
    )


def run_command(args: argparse.Namespace) -> int:
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
    os.environ.update(env)  # this process issues the cards under the servers' card keys
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    database.migrate()
    bank = open_bank(cards=not args.no_cards)
    from django.db import connection

    connection.close()
    log = Path(os.environ.get("VAR_DIR", "var")) / "bench" / "crash.log"
    servers = [
        Server(env, workers=args.workers, threads=args.threads, log_path=log)
        for _ in range(args.servers or (1 if sqlite else 2))
    ]
    print(
        f"crash workload: {len(servers)} server(s) x {args.workers} workers x {args.threads} "
        f"threads over {args.database_url}; {args.operations} requests "
        f"({'transfers only' if args.no_cards else f'{len(bank.cards)} cards'}) from "
        f"{args.clients} clients, {args.readers} readers (log {log})",
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
            bank=bank,
            operations=args.operations,
            clients=args.clients,
            readers=args.readers,
            crash=None if args.no_crash else crash,
        )
    finally:
        for server in servers:
            server.stop()
    problems = verify(report, bank)
    connection.close()
    print(summary(report, bank))
    for problem in problems:
        print(f"  PROBLEM: {problem}")
    print("all invariants hold" if not problems else f"{len(problems)} invariant(s) broken")
    return 1 if problems else 0


def summary(report: Report, bank: Bank) -> str:
    answered = report.answered
    kinds = "; ".join(
        f"{kind} {dict(sorted(counter.items()))}" for kind, counter in report.statuses.items()
    )
    rate = answered / report.seconds
    lines = [f"  {answered} requests answered in {report.seconds:.1f} s ({rate:.0f}/s): {kinds}"]
    if bank.cards:
        declines = Counter(reason for _, reason in report.declines.elements())
        pending = [hold for hold in report.holds.values() if hold.status == "pending"]
        lines.append(
            f"  declines {dict(sorted(declines.items()))}; the cards took {report.card_out} "
            f"of {bank.total}, {sum(h.remaining for h in pending)} still held by "
            f"{len(pending)} open holds"
        )
    voids = f", {report.lost_voids} voids answered by their retry" if bank.cards else ""
    lines.append(
        f"  {report.retries} retries of unanswered requests, {report.replayed} replayed 201s"
        f"{voids}; {len(report.reads)} API reads, {report.snapshots} snapshot reads; "
        f"{', '.join(report.kills) or 'no crash'}"
    )
    return "\n".join(lines)
