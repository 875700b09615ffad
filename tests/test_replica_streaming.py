"""A real read replica: a PostgreSQL primary and a streaming standby of its own, on spare ports
(initdb, pg_basebackup -R; the shared cluster is not touched), with the bank served by gunicorn
from `DATABASE_URL` = the primary and `DATABASE_REPLICA_URL` = the standby.

The standby replays two seconds late (`recovery_min_apply_delay`), so a read it serves is
visibly behind: a customer who did not write sees the old balance (the replica really
serves), the customer who wrote always sees their write (read-your-writes), and once the
standby is stopped every read is served by the primary with no error. Which server ran a
history query is read from each server's statement log.

Run alone: `DATABASE_URL=postgres://... .venv/bin/pytest tests/test_replica_streaming.py -q`.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import requests
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
PG_BINS = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
APPLY_DELAY_SECONDS = 2

# On SQLite there is nothing to replicate. On PostgreSQL without the server binaries the test
# is skipped, unless REQUIRE_PG_SERVER is set (.ci/run sets it): then it fails, as a replica
# test must never pass CI silently.
pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL replica"),
    pytest.mark.skipif(
        not PG_BINS and not os.environ.get("REQUIRE_PG_SERVER"),
        reason="needs PostgreSQL's server binaries (/usr/lib/postgresql/*/bin)",
    ),
]

SETUP = """
import json
from django.core.management import call_command
call_command("migrate", verbosity=0)
call_command("createcachetable", verbosity=0)
from accounts.models import User
from ledger import services
from rest_framework_simplejwt.tokens import AccessToken
people = {}
for name in ("alice", "bob"):
    user = User.objects.create_user(email=name + "@example.com", password="unused-pass-2026")
    account = services.open_account(owner=user, type="checking", currency="EUR")
    services.deposit(account=account, amount=100000, initiated_by=None)
    people[name] = {"token": str(AccessToken.for_user(user)), "account": str(account.pk),
                    "number": account.number}
print("PEOPLE=" + json.dumps(people))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(*command: str) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the postgres user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


class Cluster:
    """One PostgreSQL server of the test's own, in a data directory of the test's own."""

    def __init__(self, bin_dir: Path, data: Path, port: int):
        self.bin, self.data, self.port = bin_dir, data, port
        self.log = data.parent / f"{data.name}.log"

    def run(self, tool: str, *args: str) -> None:
        subprocess.run(
            as_postgres(str(self.bin / tool), *args), check=True, capture_output=True, timeout=60
        )

    def start(self, *settings: str) -> None:
        options = " ".join(
            [f"-p {self.port}", f"-k {self.data}", "-c listen_addresses=127.0.0.1", *settings]
        )
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/bank"

    def history_queries(self, since: int) -> int:
        """Statements on ledger_entry this server ran since the log's byte offset `since`."""
        text = self.log.read_bytes()[since:].decode(errors="replace")
        return sum(
            1
            for line in text.splitlines()
            if "statement: SELECT" in line and '"ledger_entry"' in line
        )

    def log_size(self) -> int:
        return self.log.stat().st_size


@pytest.fixture
def servers():
    """A primary with the bank migrated and two customers, a standby streaming from it, and
    gunicorn over both. Everything it starts is stopped by its own pid or data directory."""
    if not PG_BINS:
        pytest.fail("REQUIRE_PG_SERVER is set but /usr/lib/postgresql/*/bin/initdb is missing")
    bin_dir = PG_BINS[-1].parent
    root = Path(tempfile.mkdtemp(prefix="bank-replica-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    primary = Cluster(bin_dir, root / "primary", free_port())
    standby = Cluster(bin_dir, root / "standby", free_port())
    web = None
    try:
        primary.run("initdb", "-D", str(primary.data), "-U", "postgres", "-A", "trust", "--no-sync")
        primary.start("-c wal_level=replica", "-c fsync=off", "-c log_statement=all")
        primary.run(
            "createdb", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres", "bank"
        )
        env = {
            k: v
            for k, v in os.environ.items()
            if k
            not in {"DATABASE_URL", "DATABASE_REPLICA_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
        }
        env.update(
            DATABASE_URL=primary.url(),
            SECRET_KEY="replica-test-" + uuid.uuid4().hex * 2,
            VAR_DIR=str(root / "var"),
            LOG_LEVEL="WARNING",
        )
        setup = subprocess.run(
            [sys.executable, "manage.py", "shell", "--no-imports", "-c", SETUP],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert setup.returncode == 0, setup.stderr
        people = json.loads(setup.stdout.split("PEOPLE=", 1)[1])

        standby.run(
            "pg_basebackup",
            *("-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"),
            *("-D", str(standby.data), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync"),
        )
        standby.start(
            "-c hot_standby=on",
            f"-c recovery_min_apply_delay={APPLY_DELAY_SECONDS}s",
            "-c log_statement=all",
        )

        port = free_port()
        env.update(
            DATABASE_REPLICA_URL=standby.url(),
            REPLICA_MAX_LAG_SECONDS="30",  # the 2 s apply delay is within the bound
            GUNICORN_BIND=f"127.0.0.1:{port}",
            WEB_CONCURRENCY="2",
            GUNICORN_THREADS="2",
            GUNICORN_LOG_LEVEL="warning",
        )
        web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "bankproject/gunicorn.conf.py",
                "bankproject.wsgi",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(root / "web.log", "wb"),  # noqa: SIM115 - closed with the process
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or still booting
                pass
            assert web.poll() is None, (root / "web.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        yield {"base": base, "people": people, "primary": primary, "standby": standby, "root": root}
    finally:
        if web is not None:
            web.send_signal(signal.SIGINT)  # gunicorn's quick shutdown: no keep-alive wait
            web.wait(timeout=30)
        standby.stop()
        primary.stop()
        shutil.rmtree(root, ignore_errors=True)


class Bank:
    """An API client per customer that records every status it gets."""

    def __init__(self, base: str, people: dict):
        self.base, self.people, self.statuses = base, people, Counter()
        self.sessions = {}
        for name, person in people.items():
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {person['token']}"
            self.sessions[name] = session

    def get(self, name: str, path: str) -> dict:
        response = self.sessions[name].get(self.base + path, timeout=30)
        self.statuses[response.status_code] += 1
        assert response.status_code == 200, response.text
        return response.json()

    def balance(self, name: str) -> int:
        return self.get(name, f"/api/v1/accounts/{self.people[name]['account']}/")["balance"]

    def history(self, name: str) -> list[dict]:
        account = self.people[name]["account"]
        return self.get(name, f"/api/v1/accounts/{account}/transactions/")["results"]

    def send(self, name: str, to: str, amount: int) -> dict:
        response = self.sessions[name].post(
            self.base + "/api/v1/transfers/",
            json={
                "from_account": self.people[name]["account"],
                "to_account_number": self.people[to]["number"],
                "amount": amount,
            },
            headers={"Idempotency-Key": uuid.uuid4().hex},
            timeout=30,
        )
        self.statuses[response.status_code] += 1
        assert response.status_code == 201, response.text
        return response.json()


def test_a_streaming_replica_serves_reads_keeps_read_your_writes_and_falls_back(servers):
    started = time.monotonic()
    primary, standby = servers["primary"], servers["standby"]
    bank = Bank(servers["base"], servers["people"])

    # 1. Reads by a customer who has not written are served by the standby.
    p0, s0 = primary.log_size(), standby.log_size()
    for _ in range(10):
        assert bank.history("bob")[0]["amount"] == 100_000
        assert bank.balance("bob") == 100_000
    assert standby.history_queries(s0) >= 10
    assert primary.history_queries(p0) == 0

    # 2. Alice writes and at once reads her write, every time, although the standby is two
    # seconds behind; Bob, who did not write, is shown the standby's older balance.
    alice, bob_seen = 100_000, []
    for amount in range(101, 111):
        sent = bank.send("alice", "bob", amount)
        alice -= amount
        assert bank.balance("alice") == alice
        assert bank.history("alice")[0]["transaction_id"] == sent["id"]
        bob_seen.append(bank.balance("bob"))
    bob = 100_000 + sum(range(101, 111))
    assert min(bob_seen) < bob, "Bob's reads should have come from the lagging standby"
    deadline = time.monotonic() + 15  # and the standby catches up
    while bank.balance("bob") != bob:
        assert time.monotonic() < deadline, "the standby never replayed the transfers"
        time.sleep(0.25)
    caught_up_at = time.monotonic()
    assert bank.get("bob", "/readyz")["checks"]["replica"] in {"ok", "lagging"}

    # 3. The standby stops: every read is served by the primary, without an error.
    standby.stop()
    p1 = primary.log_size()
    for _ in range(5):
        assert bank.balance("bob") == bob
        assert len(bank.history("bob")) == 11
    bank.send("alice", "bob", 1)
    assert bank.balance("alice") == alice - 1
    assert bank.balance("bob") == bob + 1
    assert primary.history_queries(p1) >= 5
    ready = requests.get(servers["base"] + "/readyz", timeout=10)
    assert ready.status_code == 200
    assert ready.json()["checks"]["replica"] == "unavailable"

    assert set(bank.statuses) <= {200, 201}, bank.statuses
    web_log = (servers["root"] / "web.log").read_text()
    assert "Traceback" not in web_log, web_log
    print(
        f"\nreplica test: {sum(bank.statuses.values())} requests, standby caught up "
        f"{caught_up_at - started:.1f} s in, whole run {time.monotonic() - started:.1f} s"
    )
