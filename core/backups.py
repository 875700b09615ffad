"""PostgreSQL backups with the server's own tools: `pg_dump` in its custom format (one
consistent snapshot of the whole database, compressed, restorable table by table) and
`pg_restore` into a fresh database. `manage.py backup` and `manage.py restore` are thin shells
over these functions.

Passwords never reach a command line (where `ps` would show them): the tools get them through
PGPASSWORD in their environment. The client tools must be at least the server's major version
(pg_dump refuses an older one halfway; we refuse it first, with the fix in the message).
"""

import os
import re
import shutil
import subprocess  # nosec B404  # runs pg_dump/pg_restore with argument lists, never a shell
from dataclasses import dataclass
from pathlib import Path

import environ
import psycopg
from psycopg import sql


class BackupError(Exception):
    """Something an operator must fix; the message says what."""


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    user: str
    password: str
    name: str

    @classmethod
    def from_settings(cls, db: dict) -> "Target":
        if "postgresql" not in db["ENGINE"]:
            raise BackupError(
                "Backups are for PostgreSQL (DATABASE_URL=postgres://...). The SQLite demo "
                "database is one file: stop the server and copy var/bank.sqlite3."
            )
        return cls(
            host=db.get("HOST") or "127.0.0.1",
            port=int(db.get("PORT") or 5432),
            user=db.get("USER") or "postgres",
            password=db.get("PASSWORD") or "",
            name=db["NAME"],
        )

    @classmethod
    def from_url(cls, url: str) -> "Target":
        if not url.startswith(("postgres://", "postgresql://")):
            raise BackupError("--database-url must be postgres://user[:password]@host:port/name.")
        config = environ.Env.db_url_config(url)
        if not config.get("NAME"):
            raise BackupError("--database-url must name the database to restore into.")
        return cls.from_settings(config)

    def env(self) -> dict[str, str]:
        env = {**os.environ, "PGHOST": self.host, "PGPORT": str(self.port), "PGUSER": self.user}
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def connect(self, dbname: str | None = None) -> psycopg.Connection:
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password or None,
            dbname=dbname or self.name,
            autocommit=True,
        )


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client).")
    return path


def _check_versions(tool: str, target: Target) -> None:
    out = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True).stdout  # noqa: S603  # nosec B603  # an argument list, no shell
    found = re.search(r"PostgreSQL\)\s*(\d+)", out)  # "pg_dump (PostgreSQL) 15.20 (Debian ...)"
    if found is None:
        raise BackupError(f"Cannot read the version of {tool}: {out.strip()!r}")
    client = int(found.group(1))
    with target.connect("postgres") as conn:
        server = int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000
    if client < server:
        raise BackupError(
            f"{Path(tool).name} is version {client} but the server is {server}: install the "
            f"client tools of version {server} or newer."
        )


def _run(args: list[str], target: Target) -> None:
    result = subprocess.run(args, env=target.env(), capture_output=True, text=True)  # noqa: S603  # nosec B603  # an argument list, no shell
    if result.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {result.stderr.strip()}")


def backup(*, target: Target, output: Path) -> int:
    """Dump the whole database to `output` (custom format); the archive's size in bytes.
    pg_dump reads every table in one repeatable-read transaction: one consistent snapshot, with
    the application running. Written beside `output` and renamed, so a failed run never leaves
    a half file under the real name."""
    pg_dump = _tool("pg_dump")
    _check_versions(pg_dump, target)
    partial = output.with_name(output.name + ".partial")
    _run([pg_dump, "--format=custom", "--no-password", f"--file={partial}", target.name], target)
    _run([_tool("pg_restore"), "--list", str(partial)], target)  # a readable archive
    partial.replace(output)
    return output.stat().st_size


def restore(*, source: Path, target: Target, live: Target | None = None) -> None:
    """Restore `source` into `target`, a database that does not exist yet or is empty; in one
    transaction, so a failure leaves it empty. Ownership and grants are not restored (the
    restoring role owns everything), so a dump moves between servers and roles."""
    if not source.is_file():
        raise BackupError(f"No backup at {source}.")
    if live is not None and (live.host, live.port, live.name) == (
        target.host,
        target.port,
        target.name,
    ):
        raise BackupError("Refused: that is the database this bank runs on. Restore elsewhere.")
    pg_restore = _tool("pg_restore")
    _check_versions(pg_restore, target)
    with target.connect("postgres") as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [target.name]
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.name)))
    with target.connect() as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()[0]
    if tables:
        raise BackupError(f"Refused: database {target.name} is not empty ({tables} tables).")
    _run(
        [
            pg_restore,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--no-password",
            f"--dbname={target.name}",
            str(source),
        ],
        target,
    )
