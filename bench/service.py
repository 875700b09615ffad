"""Transfers through `ledger.services.transfer` (or, shape "deposit", deposits through
`ledger.services.deposit`), called directly from threads, each with its own database
connection (Django's connections are per thread)."""

import random

from bench.database import Fixture
from bench.load import drive
from bench.stats import Result


def pick(rng: random.Random, fixture: Fixture, shape: str):
    """(source party, destination party): two distinct random customers, or the hot account
    paying a random customer."""
    if shape == "hot":
        return fixture.hot, rng.choice(fixture.customers)
    source, destination = rng.sample(fixture.customers, 2)
    return source, destination


def run(fixture: Fixture, *, shape: str, clients: int, seconds: float, warmup: float) -> Result:
    from django.db import connection

    from ledger import services

    def setup(index: int) -> random.Random:
        return random.Random(f"service-{shape}-{clients}-{index}")

    def operation(rng: random.Random) -> str | None:
        if shape == "deposit":
            return deposit(rng)
        source, destination = pick(rng, fixture, shape)
        try:
            services.transfer(
                from_account=source.account.pk,
                to_account_number=destination.account.number,
                amount=rng.randint(1, 100),
                initiated_by=source.user,
            )
        except Exception as error:  # every failure is counted, whatever it is
            return type(error).__name__
        return None

    def deposit(rng: random.Random) -> str | None:
        """Cash into a random customer's account: every one also posts to the settlement
        account of its currency, the bank's own account that all of them share."""
        try:
            services.deposit(
                account=rng.choice(fixture.customers).account,
                amount=rng.randint(1, 100),
                initiated_by=None,
                description="Bench deposit",
            )
        except Exception as error:  # every failure is counted, whatever it is
            return type(error).__name__
        return None

    def teardown(_rng: random.Random) -> None:
        connection.close()

    return drive(
        scenario="service",
        shape=shape,
        clients=clients,
        seconds=seconds,
        warmup=warmup,
        setup=setup,
        operation=operation,
        teardown=teardown,
    )
