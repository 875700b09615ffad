"""Holds under real concurrency: authorisations, captures, voids, transfers and the expiry
command race on one account, each thread on its own connection, released together (PostgreSQL
row locks; SQLite's IMMEDIATE transactions serialise the same code). Every one of them locks
the account first, then the authorisation, so they queue and never deadlock.

Afterwards: no money was created or lost, the available balance never went below zero (a
watcher thread read it all along; the database's check refuses it anyway), and every hold is
open, captured or released exactly once: its payments sum to its captured amount, and the
account's `held` is exactly what the open holds still hold."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from accounts.tests.factories import UserFactory
from cards import services
from cards.models import Card, CardAuthorization, CardPayment
from cards.tests.factories import authorize, capture, issued_card, void
from core.errors import NotFound
from ledger.models import Account
from ledger.tests.factories import account_for, balance_of, send
from ledger.tests.test_concurrency import assert_books_ok, run_threads, unexpected

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]

START = 20_000
WATCHER = 8  # threads 0-7 write; thread 8 watches


def test_authorisations_captures_voids_transfers_and_expiry_race_on_one_account():
    issued = issued_card(amount=START, daily_limit=1_000_000)
    account = issued.card.account
    payee = account_for(UserFactory(), amount=0)
    settlement_before = balance_of(Account.objects.get(type="internal", currency="EUR"))
    holds = [authorize(issued, amount=1_000, merchant=f"Pre {i}") for i in range(8)]
    stale = holds[6:]  # two past their time: the expiry releases them, a capture is refused
    CardAuthorization.objects.filter(pk__in=[h.pk for h in stale]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    writers_done, lock, finished = threading.Event(), threading.Lock(), []
    seen_available = []

    def attempt(call) -> tuple[str, object]:
        try:
            return ("ok", call())
        except Exception as exc:  # a domain refusal is expected; anything else is reported
            return ("error", exc)

    def work(index: int) -> list:
        done = []
        if index in (0, 1):  # authorisers
            for i in range(4):
                done.append(attempt(lambda i=i: authorize(issued, amount=1_500, merchant=f"A{i}")))
        elif index in (2, 3):  # capturers: half, then the rest, of every pre-made hold
            for hold in holds:
                done.append(attempt(lambda hold=hold: capture(issued, hold, amount=500)))
                done.append(attempt(lambda hold=hold: capture(issued, hold)))
        elif index == 4:  # the voider, from the other end
            for hold in reversed(holds):
                done.append(attempt(lambda hold=hold: void(issued, hold)))
        elif index == 5:  # cron, overlapping itself
            for _ in range(4):
                done.append(attempt(services.expire_holds))
        elif index in (6, 7):  # transfers out of the same account
            for _ in range(3):
                done.append(attempt(lambda: send(account, payee, 2_000)))
        elif index == WATCHER:  # the available balance as anyone reads it, all along
            while not writers_done.is_set():
                row = Account.objects.values("balance", "held").get(pk=account.pk)
                seen_available.append(row["balance"] - row["held"])
        return done

    def run(index: int) -> list:
        try:
            return work(index)
        finally:
            if index != WATCHER:
                with lock:
                    finished.append(index)
                    if len(finished) == WATCHER:
                        writers_done.set()

    results = run_threads(WATCHER + 1, run)

    outcomes = [o for kind, per in results if kind == "ok" for o in per]
    assert [value for kind, value in results if kind != "ok"] == []
    assert unexpected(outcomes) == [], unexpected(outcomes)
    assert not [value for _, value in outcomes if isinstance(value, NotFound)]
    assert min(seen_available, default=0) >= 0

    # Every hold: its payments sum to its captured amount, and its status says what it is.
    held = 0
    for hold in CardAuthorization.objects.filter(card=issued.card):
        paid = CardPayment.objects.filter(authorization=hold).aggregate(s=Sum("amount"))["s"] or 0
        assert paid == hold.captured_amount, hold
        if hold.status == "pending":
            held += hold.amount - hold.captured_amount
        elif hold.status == "closed":
            assert hold.captured_amount == hold.amount
    for hold in stale:  # past its time before anything ran: never captured, released by cron
        hold.refresh_from_db()
        assert (hold.status, hold.captured_amount) == ("expired", 0)

    # No money created or lost: what left the account is what the payee and the bank got.
    account.refresh_from_db()
    captured = CardPayment.objects.filter(card=issued.card).aggregate(s=Sum("amount"))["s"] or 0
    sent = balance_of(payee)
    settlement = balance_of(Account.objects.get(type="internal", currency="EUR"))
    assert account.balance == START - captured - sent
    assert settlement - settlement_before == captured
    assert account.held == held and account.balance - account.held >= 0
    assert Counter(kind for kind, _ in outcomes)["ok"] > 0
    assert Card.objects.get(pk=issued.card.pk).status == "active"
    assert_books_ok()
