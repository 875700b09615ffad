"""The bank workload with a crash (bench/crash.py) at a size the suite can afford, and the
proof that its checks bite.

PostgreSQL: two gunicorn servers over the test database, 16 clients making random transfers
among a dozen accounts of one holder (some overdrawing, some into the frozen one), card
payments (some declined), authorisations, captures and voids, readers reading every balance
in one request and a snapshot reader reading the books in one SELECT; midway one server's
whole process group is SIGKILLed and started again, and clients retry unanswered requests
with the same key. SQLite (the embedded default): one server with several workers, and the
same crash. `python -m bench crash` runs the larger version.

`verify()` is then tried on hand-made states: a small workload served in this process, and
the database or the report changed behind its back (a payment posted twice, a hold's `held`
off by one, a reader that saw money come back...): each must be reported."""

import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test import Client as DjangoClient

from bench import crash
from cards import services as cards
from ledger import services
from ledger.models import Account
from ledger.tests.factories import funded_account

LOG = Path(settings.VAR_DIR) / "test-crash.log"


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def run_workload(*, servers: int, workers: int, threads: int, redis: bool, operations: int):
    bank = crash.open_bank()
    env = crash.server_environment(
        database_url=database_url(),
        signing_key=settings.SIMPLE_JWT["SIGNING_KEY"],
        redis_url=settings.REDIS_URL or crash.DEFAULT_REDIS_URL if redis else None,
        card_keys=(settings.CARD_PAN_KEYS, settings.CARD_CVC_KEY),  # the cards' keys
    )
    running = [
        crash.Server(env, workers=workers, threads=threads, log_path=LOG) for _ in range(servers)
    ]

    def kill_and_restart() -> None:
        running[0].kill()
        running[0].start()

    try:
        for server in running:
            server.start()
        report = crash.run(
            ports=[server.port for server in running],
            bank=bank,
            operations=operations,
            clients=16,
            readers=2,
            crash=kill_and_restart,
            say=lambda message: None,
        )
    finally:
        for server in running:
            server.stop()
    return report, bank, crash.verify(report, bank)


def assert_the_workload_held(report: crash.Report, bank: crash.Bank, problems, operations: int):
    print(crash.summary(report, bank))  # shown with -s
    assert problems == [], crash.summary(report, bank)
    assert report.kills, "the nemesis never struck"
    assert report.answered == operations
    statuses = report.statuses
    assert {201, 422} <= set(statuses["transfer"])  # postings and refusals (overdrafts, frozen)
    assert {201, 402} <= set(statuses["payment"])  # approved and declined card payments
    assert 201 in statuses["authorize"] and 201 in statuses["capture"] and statuses["void"]
    reasons = {reason for _, reason in report.declines}
    assert {"insufficient_funds", "limit_exceeded", "card_inactive"} <= reasons
    assert report.card_out > 0
    assert report.reads and report.snapshots


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="two servers over PostgreSQL")
def test_bank_workload_survives_a_server_killed_midway_on_postgresql():
    report, bank, problems = run_workload(
        servers=2, workers=2, threads=2, redis=True, operations=600
    )
    assert_the_workload_held(report, bank, problems, 600)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="the embedded default's variant")
def test_bank_workload_never_shows_database_is_locked_on_sqlite():
    call_command("createcachetable", verbosity=0)  # the embedded default's cache (no Redis)
    report, bank, problems = run_workload(
        servers=1, workers=3, threads=2, redis=False, operations=400
    )
    assert_the_workload_held(report, bank, problems, 400)


# --- verify() bites ---------------------------------------------------------------------------


class InProcess:
    """The workload's HTTP client, served in this process by Django's test client."""

    def __init__(self, token: str):
        self.token = token
        self.django = DjangoClient()

    def send(self, method, path, body, headers, *, auth=True):
        meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
        if auth:
            meta["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        response = self.django.generic(
            method, path, body or b"", content_type="application/json", **meta
        )
        return response.status_code, response.headers, response.content

    def close(self) -> None:
        pass


@pytest.fixture
def small_run():
    """A few requests of every kind, served in this process: (the report, the bank). One
    payment at least is approved; of three holds one is voided, one captured in part (it
    stays open) and one captured whole."""
    bank = crash.open_bank()
    report = crash.Report()
    worker = crash.Worker(
        bank=bank,
        ports=[],
        report=report,
        lock=threading.Lock(),
        seed="unit",
        client=InProcess(bank.token),
    )
    for _ in range(6):
        worker.transfer()
    for _ in range(30):
        worker.pay()
        worker.authorize()
        big = [hold for hold in worker.open if hold.amount > 1]
        if len(big) >= 3 and any(p.kind == "payment" for p in report.postings.values()):
            break
    voided, part, whole = big[:3]
    worker.void_of(voided)
    worker.capture_of(part, part.amount - 1)
    worker.capture_of(whole, None)
    assert (voided.status, part.status, whole.status) == ("voided", "pending", "closed")
    report.reads.append(crash.Read(0.0, 0.1, bank.total))
    return report, bank


@pytest.mark.django_db
def test_verify_passes_a_workload_that_kept_every_invariant(small_run):
    report, bank = small_run

    assert crash.verify(report, bank) == []
    assert crash.snapshot_problem(bank) is None
    assert set(report.statuses) == {"transfer", "payment", "authorize", "capture", "void"}


@pytest.mark.django_db
def test_verify_reports_a_card_payment_posted_twice(small_run):
    report, bank = small_run
    card = next(card for card in bank.cards if card.pays)
    cards.pay(**card.data(), amount=7, merchant="Crash Cafe")  # a second posting, no 201 for it

    problems = crash.verify(report, bank)

    assert any("in the ledger for" in problem for problem in problems), problems
    assert any("a posting without its key" in problem for problem in problems), problems
    assert any("settlement account received" in problem for problem in problems), problems
    assert any("card payment records that differ" in problem for problem in problems), problems
    assert any(problem.startswith("the total is") for problem in problems), problems


@pytest.mark.django_db
def test_verify_reports_a_posting_whose_201_is_not_the_one_in_the_ledger(small_run):
    report, bank = small_run
    posting = next(p for p in report.postings.values() if p.kind == "payment")
    posting.amount += 1  # the 201 said one more than was debited

    problems = crash.verify(report, bank)

    assert any("not debiting the account and amount answered" in p for p in problems), problems


@pytest.mark.django_db
def test_verify_reports_an_account_holding_other_than_its_open_holds(small_run):
    report, bank = small_run
    hold = next(h for h in report.holds.values() if h.status == "pending")
    Account.objects.filter(pk=hold.account).update(held=F("held") + 1)

    problems = crash.verify(report, bank)

    assert any(f"holds {hold.remaining + 1}" in problem for problem in problems), problems
    assert any("held amounts that differ" in problem for problem in problems)  # ledger_check
    assert crash.snapshot_problem(bank) is not None


@pytest.mark.django_db
def test_verify_reports_a_hold_other_than_its_last_answer(small_run):
    report, bank = small_run
    hold = next(h for h in report.holds.values() if h.captured)
    hold.captured -= 1  # the client was told one less was captured than the ledger shows
    other = next(h for h in report.holds.values() if h is not hold)
    other.key = report.holds[hold.id].key  # its answer came under another hold's key

    problems = crash.verify(report, bank)

    assert any("holds that differ from their answers" in p for p in problems), problems
    assert any("captures do not add up" in p for p in problems), problems
    assert any(f"whose key does not answer them: ['{other.id}']" in p for p in problems)


@pytest.mark.django_db
@pytest.mark.parametrize("outside", [False, True], ids=["from-a-customer", "from-outside"])
def test_the_snapshot_reports_money_that_moved_other_than_by_card(small_run, outside):
    """Cash out of one of the accounts: it left the customers, but not by card. Cash out of
    an account outside the workload: the settlement account got money no card paid."""
    _, bank = small_run
    account = funded_account(10) if outside else Account.objects.get(pk=bank.accounts[0].id)
    services.withdraw(account=account, amount=1, initiated_by=None, description="not a card")

    problem = crash.snapshot_problem(bank) or ""

    assert ("what the settlement account received" in problem) == outside, problem
    assert ("+ card payments" in problem) != outside, problem


@pytest.mark.django_db
def test_verify_reports_what_the_readers_should_never_have_seen(small_run):
    report, bank = small_run
    account = bank.accounts[0].id
    report.seen.add((account, 123_456_789))
    report.negative.append("one: balance -1, available -1")
    report.snapshot_problems.append("customers 1 + card payments 0 is not 120000")
    report.snapshots = 10

    problems = crash.verify(report, bank)

    assert any("balances the accounts never had" in p for p in problems), problems
    assert any("balances seen below zero" in p for p in problems), problems
    assert any("1 of 10 snapshots broken" in p for p in problems), problems


@pytest.mark.django_db
def test_verify_reports_answers_their_requests_do_not_allow(small_run):
    report, bank = small_run
    report.statuses["payment"][409] += 1
    report.surprises.append("void of a pending hold: 422")
    report.keys.append(report.keys[0])

    problems = crash.verify(report, bank)

    assert any("answers their requests do not allow: {'payment': [409]}" in p for p in problems)
    assert any("answers the client's holds rule out" in p for p in problems), problems
    assert "a key was used twice" in problems


READS = [crash.Read(0.0, 1.0, 1000), crash.Read(2.0, 3.0, 990), crash.Read(2.5, 3.5, 995)]


def test_readers_may_see_the_cards_take_money_but_never_give_it_back():
    report = crash.Report(reads=list(READS))
    report.postings["k"] = crash.Posting("payment", "t", "a", 10)

    assert crash.reader_problems(report, total=1000) == []  # overlapping reads: any order

    report.reads.append(crash.Read(4.0, 5.0, 995))  # sent after the read of 990 was answered
    assert "a later read saw money come back" in crash.reader_problems(report, total=1000)[0]


def test_readers_see_no_total_outside_what_the_cards_took():
    report = crash.Report(reads=[*READS, crash.Read(9.0, 9.5, 1001)])
    report.postings["k"] = crash.Posting("payment", "t", "a", 10)

    assert "readers saw totals [1001]" in crash.reader_problems(report, total=1000)[0]
    report.postings["k"].kind = "transfer"  # without card payments: the classic fixed total
    assert "readers saw totals [990, 995, 1001]" in crash.reader_problems(report, total=1000)[0]
