"""The bench database: created when missing, migrated, seeded through the services."""

import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import unquote, urlsplit

FUND = 10**13  # minor units per account: random transfers of at most 100 can never run dry
HOT_FUND = 10**14
EMAIL = "bench-{:05d}@bench.invalid"
HOT_EMAIL = "bench-hot@bench.invalid"


@dataclass
class Party:
    user: object
    account: object
    token: str  # a JWT access token for the user


@dataclass
class Fixture:
    customers: list[Party]
    hot: Party


def connection_params(database_url: str) -> dict[str, str | int]:
    parts = urlsplit(database_url)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": unquote(parts.username or "postgres"),
        "password": unquote(parts.password or ""),
        "dbname": unquote(parts.path.lstrip("/")),
    }


def ensure_database(database_url: str, *, fresh: bool) -> None:
    import psycopg
    from psycopg import sql

    params = connection_params(database_url)
    name = params.pop("dbname")
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def analyze(database_url: str) -> None:
    """Fresh planner statistics: right after seeding, autovacuum has not yet seen the new rows
    and PostgreSQL would plan the transfer's lookups as if the tables were empty."""
    import psycopg

    with psycopg.connect(autocommit=True, **connection_params(database_url)) as conn:
        conn.execute("VACUUM ANALYZE")


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)


def _token(user, lifetime: timedelta) -> str:
    """The access token a login gives (family, session version, holder claims), for longer."""
    from accounts.tokens import SessionRefreshToken

    token = SessionRefreshToken.for_user(user).access_token
    token.set_exp(lifetime=lifetime)
    return str(token)


def _party(email: str, fund: int, lifetime: timedelta) -> Party:
    from accounts.models import User
    from ledger import services
    from ledger.models import Account

    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=None)
    account = Account.objects.filter(holder__user=user).first()
    if account is None:
        account = services.open_account(owner=user, type="checking", currency="EUR")
    if account.balance < fund // 2:
        services.deposit(account=account, amount=fund, initiated_by=None, description="Bench")
        account.refresh_from_db()
    return Party(user=user, account=account, token=_token(user, lifetime))


def seed(customers: int, *, lifetime: timedelta, say=print) -> Fixture:
    """N customers with one funded EUR account each and a hot account, through the services
    (open_account, deposit); rows already there from an earlier run are reused."""
    started = time.perf_counter()
    parties = []
    for i in range(customers):
        parties.append(_party(EMAIL.format(i), FUND, lifetime))
        if (i + 1) % 250 == 0:
            say(f"  seeded {i + 1}/{customers} customers")
    hot = _party(HOT_EMAIL, HOT_FUND, lifetime)
    say(f"  {customers} customers and a hot account ready in {time.perf_counter() - started:.1f} s")
    return Fixture(customers=parties, hot=hot)


def ledger_clean() -> bool:
    from django.db import connection

    from ledger.checks import check_ledger

    try:
        return check_ledger().ok
    finally:
        connection.close()
