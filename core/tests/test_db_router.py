"""The read router (core/db_router.py) with two aliases, on SQLite and on PostgreSQL.

`replica` here is a second connection to the test database itself, added for the test: a
replica with no lag, so every test can tell which connection served a read by capturing each
alias's queries. The real thing (a streaming standby of a primary of its own, stopped midway)
is tests/test_replica_streaming.py."""

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction
from django.test.utils import CaptureQueriesContext

from conftest import bearer, signed_in
from core import db_router
from core.db_router import PRIMARY, REPLICA, PrimaryReplicaRouter, read_db, replica_reads
from ledger.models import Account
from ledger.tests.factories import account_for, funded_account

# The replica connection sees committed rows only, hence transactions that commit.
pytestmark = pytest.mark.django_db(transaction=True, databases=[PRIMARY, REPLICA])

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", autouse=True)
def replica_alias(django_db_setup, django_db_blocker):
    """A `replica` alias on the test database, for this module only (a test may use an alias
    only if it exists when the test's database setup runs, hence the module scope)."""
    primary = connections[DEFAULT_DB_ALIAS].settings_dict
    connections.settings[REPLICA] = {**primary, "TEST": {**primary["TEST"], "MIRROR": PRIMARY}}
    yield
    with django_db_blocker.unblock():
        connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]


@pytest.fixture
def replica(settings, monkeypatch):
    """The router on, the replica known to be up."""
    settings.DATABASE_ROUTERS = ["core.db_router.PrimaryReplicaRouter"]
    monkeypatch.setattr(db_router, "_down_until", 0.0)
    yield connections[REPLICA]
    connections[REPLICA].close()
    del connections[REPLICA]  # rebuilt from the module's settings by the next test


@contextmanager
def ledger_reads():
    """The ledger tables' queries of each alias: {"primary": [...], "replica": [...]}."""
    found: dict[str, list[str]] = {}
    with (
        CaptureQueriesContext(connections[PRIMARY]) as primary,
        CaptureQueriesContext(connections[REPLICA]) as replica,
    ):
        yield found
    for name, captured in (("primary", primary), ("replica", replica)):
        found[name] = [
            q["sql"] for q in captured.captured_queries if '"ledger_' in (q["sql"] or "")
        ]


@pytest.fixture
def customer_account(replica):
    return funded_account(50_000)


def api_get(account, path: str):
    return bearer(account.holder.user).get(path.format(id=account.pk))


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/accounts/",
        "/api/v1/accounts/{id}/",
        "/api/v1/accounts/{id}/transactions/",
        "/api/v1/transfers/",
    ],
)
def test_read_only_api_reads_the_replica(customer_account, path):
    with ledger_reads() as reads:
        response = api_get(customer_account, path)

    assert response.status_code == 200
    assert reads["replica"]
    assert reads["primary"] == []


@pytest.mark.parametrize("path", ["/dashboard/", "/accounts/{id}/", "/transfers/"])
def test_read_only_pages_read_the_replica(customer_account, path):
    browser = signed_in(customer_account.holder.user)

    with ledger_reads() as reads:
        response = browser.get(path.format(id=customer_account.pk))

    assert response.status_code == 200
    assert reads["replica"]
    assert reads["primary"] == []


def test_a_write_reads_and_writes_the_primary_only(customer_account):
    client = bearer(customer_account.holder.user)

    with ledger_reads() as reads:
        response = client.patch(f"/api/v1/accounts/{customer_account.pk}/", {"nickname": "Rent"})

    assert response.status_code == 200
    assert reads["replica"] == []
    assert reads["primary"]


def test_after_a_write_the_writer_reads_the_primary_and_sees_it(customer_account):
    user = customer_account.holder.user
    payee = account_for(funded_account(1).holder.user)
    client = bearer(user)
    sent = client.post(
        "/api/v1/transfers/",
        {
            "from_account": str(customer_account.pk),
            "to_account_number": payee.number,
            "amount": 700,
        },
    )
    assert sent.status_code == 201

    # This replica reports no WAL position it has replayed, so it never "has" the write.
    with ledger_reads() as reads:
        history = client.get(f"/api/v1/accounts/{customer_account.pk}/transactions/")

    assert history.json()["results"][0]["transaction_id"] == sent.json()["id"]
    assert reads["replica"] == []
    assert reads["primary"]


def test_the_pin_is_per_user(customer_account):
    writer = customer_account.holder.user
    other = funded_account(900)
    client = bearer(writer)
    client.patch(f"/api/v1/accounts/{customer_account.pk}/", {"nickname": "Rent"})

    with ledger_reads() as reads:
        response = api_get(other, "/api/v1/accounts/{id}/transactions/")

    assert response.status_code == 200
    assert reads["replica"] and reads["primary"] == []


@pytest.mark.parametrize(("replayed", "served_by"), [(True, "replica"), (False, "primary")])
def test_a_pinned_user_reads_the_replica_once_it_has_replayed_the_write(
    customer_account, monkeypatch, replayed, served_by
):
    bearer(customer_account.holder.user).patch(
        f"/api/v1/accounts/{customer_account.pk}/", {"nickname": "Rent"}
    )
    positions = []

    def probe(position):
        positions.append(position)
        return 0.0, replayed

    monkeypatch.setattr(db_router, "_probe", probe)

    with ledger_reads() as reads:
        api_get(customer_account, "/api/v1/accounts/{id}/transactions/")

    assert reads[served_by]
    assert reads["replica" if served_by == "primary" else "primary"] == []
    (position,) = positions  # one probe for the request
    if connections[PRIMARY].vendor == "postgresql":
        assert "/" in position  # the primary's WAL position after the write, e.g. 0/1A2B3C4
    else:
        assert position is None  # no WAL to compare: pinned until the pin expires


def test_once_the_pin_expires_reads_return_to_the_replica(customer_account):
    user = customer_account.holder.user
    bearer(user).patch(f"/api/v1/accounts/{customer_account.pk}/", {"nickname": "Rent"})
    cache.delete(f"replica-pin:{user.pk}")  # what REPLICA_PIN_SECONDS does

    with ledger_reads() as reads:
        api_get(customer_account, "/api/v1/accounts/{id}/transactions/")

    assert reads["replica"] and reads["primary"] == []


def test_a_lagging_replica_is_skipped(customer_account, monkeypatch, settings, client):
    settings.REPLICA_MAX_LAG_SECONDS = 5
    monkeypatch.setattr(db_router, "_probe", lambda position: (6.0, True))

    with ledger_reads() as reads:
        response = api_get(customer_account, "/api/v1/accounts/{id}/transactions/")

    assert response.status_code == 200
    assert reads["replica"] == [] and reads["primary"]
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["replica"] == "lagging"


def test_a_replica_that_does_not_answer_falls_back_to_the_primary(
    customer_account, replica, tmp_path, client, monkeypatch
):
    # A real connection to a server that is not there (a closed port, a missing directory).
    replica.close()
    unreachable = {**replica.settings_dict, "HOST": "127.0.0.1", "PORT": "1"}
    if replica.vendor == "sqlite":
        unreachable["NAME"] = str(tmp_path / "missing" / "replica.sqlite3")
    monkeypatch.setitem(connections.settings, REPLICA, unreachable)
    del connections[REPLICA]  # the next use builds the connection from these settings

    with CaptureQueriesContext(connections[PRIMARY]) as primary:
        first = api_get(customer_account, "/api/v1/accounts/{id}/transactions/")
        second = api_get(customer_account, "/api/v1/accounts/")

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["results"][0]["amount"] == 50_000
    assert any('"ledger_entry"' in q["sql"] for q in primary.captured_queries)
    assert db_router._down_until > 0  # the second request did not try the replica again
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "replica": "unavailable"},
    }


@pytest.fixture
def replica_dies_after_the_probe(monkeypatch):
    """The probe finds the replica up; every later statement on it fails, as when the
    standby goes away between the two."""
    probe = db_router._probe

    def probe_then_die(position):
        answer = probe(position)

        def gone(execute, sql, params, many, context):
            raise OperationalError("server closed the connection unexpectedly")

        connections[REPLICA].execute_wrappers.append(gone)
        return answer

    monkeypatch.setattr(db_router, "_probe", probe_then_die)


@pytest.mark.parametrize(
    ("path", "shows"),
    [("/api/v1/accounts/{id}/transactions/", "50000"), ("/dashboard/", "500.00")],
)
def test_a_replica_that_dies_mid_request_is_answered_from_the_primary(
    customer_account, replica_dies_after_the_probe, path, shows
):
    user = customer_account.holder.user
    client = bearer(user) if path.startswith("/api/") else signed_in(user)
    client.raise_request_exception = False  # the first try's error is logged, not raised

    with ledger_reads() as reads:
        response = client.get(path.format(id=customer_account.pk))

    assert response.status_code == 200
    assert shows in response.content.decode()
    assert reads["primary"]  # answered from the primary...
    assert db_router._down_until > 0  # ...which serves the next requests too
    assert read_db_of_next_request(user) == PRIMARY


def read_db_of_next_request(user) -> str:
    with replica_reads():
        return read_db(user)


@pytest.mark.skipif(
    connections[DEFAULT_DB_ALIAS].vendor != "postgresql", reason="kills a PostgreSQL backend"
)
def test_a_broken_replica_connection_is_reopened_once(customer_account, replica):
    with replica.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

    with ledger_reads() as reads:
        response = api_get(customer_account, "/api/v1/accounts/{id}/transactions/")

    assert response.status_code == 200
    assert reads["replica"] and reads["primary"] == []


def test_readyz_reports_a_healthy_replica(replica, client):
    assert client.get("/readyz").json()["checks"]["replica"] == "ok"


def test_reads_inside_a_transaction_stay_on_the_primary(customer_account):
    user = customer_account.holder.user
    router = PrimaryReplicaRouter()
    with replica_reads():
        from_replica = Account.objects.using(read_db(user)).get(pk=customer_account.pk)
        assert read_db(user) == REPLICA
        assert router.db_for_read(Account, instance=from_replica) == REPLICA
        with transaction.atomic():
            assert read_db(user) == PRIMARY
            assert router.db_for_read(Account, instance=from_replica) == PRIMARY
            assert from_replica.holder._state.db == PRIMARY  # a related row, read in the block
    assert router.db_for_read(Account, instance=from_replica) == PRIMARY  # outside a request


def test_outside_a_read_only_request_everything_reads_the_primary(customer_account):
    assert read_db(customer_account.holder.user) == PRIMARY


def test_writes_and_migrations_go_to_the_primary_only(customer_account):
    router = PrimaryReplicaRouter()
    with replica_reads():
        row = Account.objects.using(REPLICA).get(pk=customer_account.pk)
        assert router.db_for_write(Account, instance=row) == PRIMARY
    assert router.allow_migrate(PRIMARY, "ledger") is True
    assert router.allow_migrate(REPLICA, "ledger") is False
    assert router.allow_relation(row, customer_account) is True


def test_settings_add_the_alias_and_router_only_when_the_url_is_set():
    code = (
        "from django.conf import settings as s; "
        "r = s.DATABASES.get('replica', {}); "
        "print(sorted(s.DATABASES), s.DATABASE_ROUTERS, r.get('TEST', {}).get('MIRROR'))"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_REPLICA_URL"}
    with_replica = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env={**env, "DATABASE_REPLICA_URL": "postgres://reader@replica.example:5432/bank"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    without = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert with_replica.stdout.split("\n")[0] == (
        "['default', 'replica'] ['core.db_router.PrimaryReplicaRouter'] default"
    ), with_replica.stderr
    assert without.stdout.split("\n")[0] == "['default'] [] None", without.stderr
