"""The bank workload with a crash (bench/crash.py) at a size the suite can afford.

PostgreSQL: two gunicorn servers over the test database, 16 clients making random transfers
among a dozen accounts of one holder (some overdrawing, some into the frozen one), readers
reading every balance in one request; midway one server's whole process group is SIGKILLed
and started again, and clients retry unanswered requests with the same key. SQLite (the
embedded default): one server with several workers, and the same crash.
`python -m bench crash` runs the larger version."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from bench import crash

pytestmark = pytest.mark.django_db(transaction=True)

LOG = Path(settings.VAR_DIR) / "test-crash.log"


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def run_workload(*, servers: int, workers: int, threads: int, redis: bool, transfers: int):
    token, accounts, frozen, total = crash.open_accounts()
    env = crash.server_environment(
        database_url=database_url(),
        signing_key=settings.SIMPLE_JWT["SIGNING_KEY"],
        redis_url=settings.REDIS_URL or crash.DEFAULT_REDIS_URL if redis else None,
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
            token=token,
            accounts=accounts,
            frozen=frozen,
            total=total,
            transfers=transfers,
            clients=16,
            readers=2,
            crash=kill_and_restart,
            say=lambda message: None,
        )
    finally:
        for server in running:
            server.stop()
    return report, crash.verify(report, accounts=accounts, total=total)


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="two servers over PostgreSQL")
def test_bank_workload_survives_a_server_killed_midway_on_postgresql():
    report, problems = run_workload(servers=2, workers=2, threads=2, redis=True, transfers=400)

    print(crash.summary(report))  # shown with -s
    assert problems == [], crash.summary(report)
    assert report.kills, "the nemesis never struck"
    assert {201, 422} <= set(report.statuses)  # postings and refusals (overdrafts, frozen)
    assert report.reads > 0
    assert sum(report.statuses.values()) == 400


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the embedded default's variant")
def test_bank_workload_never_shows_database_is_locked_on_sqlite():
    call_command("createcachetable", verbosity=0)  # the embedded default's cache (no Redis)
    report, problems = run_workload(servers=1, workers=3, threads=2, redis=False, transfers=240)

    print(crash.summary(report))  # shown with -s
    assert problems == [], crash.summary(report)
    assert report.kills, "the nemesis never struck"
    assert {201, 422} <= set(report.statuses)
    assert report.reads > 0
