"""The database's own ceiling on this machine: pgbench running a transfer-shaped script
(lock two rows in id order, update two balances, insert a transaction and its two entries,
commit) against tables of its own in the bench database."""

import os
import subprocess
import tempfile
from pathlib import Path

from bench.database import FUND, HOT_FUND, connection_params
from bench.stats import Result, parse_pgbench_log, parse_pgbench_output

PGBENCH = os.environ.get("PGBENCH", "/usr/bin/pgbench")

SCHEMA = """
CREATE TABLE IF NOT EXISTS bench_account (
    id bigint PRIMARY KEY,
    balance bigint NOT NULL CHECK (balance >= 0)
);
CREATE TABLE IF NOT EXISTS bench_transaction (
    id bigserial PRIMARY KEY,
    kind varchar(12) NOT NULL,
    description varchar(140) NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS bench_entry (
    id bigserial PRIMARY KEY,
    transaction_id bigint NOT NULL REFERENCES bench_transaction (id),
    account_id bigint NOT NULL REFERENCES bench_account (id),
    counterparty_id bigint REFERENCES bench_account (id),
    amount bigint NOT NULL CHECK (amount <> 0),
    currency varchar(3) NOT NULL,
    balance_after bigint NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS bench_entry_history
    ON bench_entry (account_id, created_at DESC, id DESC);
TRUNCATE bench_entry, bench_transaction, bench_account;
"""

# Account 1 is the hot one; customers are 2..n+1. :src pays :dst; the two rows are locked
# in ascending id order, as the ledger's services lock them.
PICK = {
    "random": r"""
\set src random(2, :n + 1)
\set dst random(2, :n)
\set dst case when :dst >= :src then :dst + 1 else :dst end
""",
    "hot": r"""
\set src 1
\set dst random(2, :n + 1)
""",
}

TRANSFER = r"""
\set amount random(1, 100)
\set lo least(:src, :dst)
\set hi greatest(:src, :dst)
BEGIN;
SELECT id, balance FROM bench_account WHERE id IN (:lo, :hi) ORDER BY id FOR UPDATE;
UPDATE bench_account SET balance = balance - :amount WHERE id = :src
    RETURNING balance AS src_after \gset
UPDATE bench_account SET balance = balance + :amount WHERE id = :dst
    RETURNING balance AS dst_after \gset
INSERT INTO bench_transaction (kind, description, created_at)
    VALUES ('transfer', '', now()) RETURNING id AS txn \gset
INSERT INTO bench_entry
    (transaction_id, account_id, counterparty_id, amount, currency, balance_after, created_at)
    VALUES (:txn, :src, :dst, -:amount, 'EUR', :src_after, now()),
           (:txn, :dst, :src, :amount, 'EUR', :dst_after, now());
COMMIT;
"""


def script(shape: str) -> str:
    return PICK[shape].lstrip() + TRANSFER.lstrip()


def prepare(database_url: str, *, accounts: int) -> None:
    import psycopg

    params = connection_params(database_url)
    with psycopg.connect(autocommit=True, **params) as conn:
        conn.execute(SCHEMA)
        conn.execute(
            "INSERT INTO bench_account (id, balance) SELECT 1, %s UNION ALL "
            "SELECT g, %s FROM generate_series(2, %s + 1) AS g",
            [HOT_FUND, FUND, accounts],
        )
        conn.execute("VACUUM ANALYZE bench_account")


def run(database_url: str, *, shape: str, clients: int, seconds: float, accounts: int) -> Result:
    params = connection_params(database_url)
    env = {**os.environ, "PGPASSWORD": str(params["password"])}
    with tempfile.TemporaryDirectory(prefix="bench-pgbench-") as tmp:
        path = Path(tmp) / f"transfer-{shape}.sql"
        path.write_text(script(shape))
        command = [
            PGBENCH,
            "-n",  # no vacuum of pgbench's own tables: there are none
            "-f",
            str(path),
            "-c",
            str(clients),
            "-j",
            str(min(clients, 2)),
            "-T",
            str(max(1, round(seconds))),
            "-D",
            f"n={accounts}",
            "-l",
            "--log-prefix",
            str(Path(tmp) / "log"),
            "-h",
            str(params["host"]),
            "-p",
            str(params["port"]),
            "-U",
            str(params["user"]),
            str(params["dbname"]),
        ]
        completed = subprocess.run(
            command, capture_output=True, text=True, env=env, cwd=tmp, check=False
        )
        if completed.returncode != 0:
            raise RuntimeError(f"pgbench failed:\n{completed.stdout}\n{completed.stderr}")
        summary = parse_pgbench_output(completed.stdout)
        latencies = []
        for log in Path(tmp).glob("log.*"):
            with log.open() as lines:
                latencies.extend(parse_pgbench_log(lines))
    return Result(
        scenario="pgbench",
        shape=shape,
        clients=clients,
        seconds=seconds,
        ok=summary.processed,
        errors=summary.failed,
        latencies=latencies,
        tps_reported=summary.tps,
    )
