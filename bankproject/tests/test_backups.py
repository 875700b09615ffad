"""A backup is proven by restoring it: seed, back up, move more money, restore into a new
database, and the restored books are exactly the books at backup time, and balance."""

import io
import uuid

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from core.backups import Target
from ledger import services
from ledger.models import Account

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="backups are pg_dump/pg_restore: PostgreSQL"
    ),
    pytest.mark.django_db(transaction=True),  # pg_dump sees only what is committed
]

BOOKS = {
    "accounts": "SELECT number, balance, status FROM ledger_account ORDER BY number",
    "entries": "SELECT count(*), sum(amount), sum(abs(amount)) FROM ledger_entry",
    "per_currency": "SELECT currency, count(*), sum(abs(amount)) FROM ledger_entry "
    "GROUP BY currency ORDER BY currency",
    "transactions": "SELECT kind, count(*) FROM ledger_transaction GROUP BY kind ORDER BY kind",
    "last_entries": "SELECT account_id, balance_after FROM ledger_entry "
    "ORDER BY created_at DESC, id DESC LIMIT 50",
    "users": "SELECT count(*) FROM accounts_user",
    "audit": "SELECT count(*) FROM audit_auditrecord",
}


def books(target: Target) -> dict:
    with target.connect() as conn:
        return {name: conn.execute(query).fetchall() for name, query in BOOKS.items()}


@pytest.fixture
def live() -> Target:
    return Target.from_settings(settings.DATABASES["default"])


@pytest.fixture
def new_database(live):
    name = f"bank_restored_{uuid.uuid4().hex[:8]}"
    auth = live.user + (f":{live.password}" if live.password else "")
    yield (
        Target(live.host, live.port, live.user, live.password, name),
        (f"postgres://{auth}@{live.host}:{live.port}/{name}"),
    )
    with live.connect("postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_restore_gives_back_exactly_the_books_at_backup_time(live, new_database, tmp_path):
    target, url = new_database
    call_command("seed", "--users", "10", "--months", "1", verbosity=0)
    at_backup = books(live)
    archive = tmp_path / "bank.dump"

    call_command("backup", "--output", str(archive), stdout=io.StringIO())
    # Money keeps moving after the backup.
    payer = Account.objects.customer().filter(status="active", balance__gt=500).first()
    # The seed freezes and closes some accounts at random: the payee must be one that can receive.
    payee = (
        Account.objects.customer()
        .filter(status="active", currency=payer.currency)
        .exclude(pk=payer.pk)
        .first()
    )
    services.transfer(
        initiated_by=payer.holder.user,
        from_account=payer.pk,
        to_account_number=payee.number,
        amount=500,
    )
    services.deposit(account=payee, amount=12_345, initiated_by=None)
    assert books(live) != at_backup
    out = io.StringIO()
    call_command("restore", "--input", str(archive), "--database-url", url, stdout=out)

    assert books(target) == at_backup
    assert "The books balance." in out.getvalue()  # ledger_check ran on the restored database
    assert not (tmp_path / "bank.dump.partial").exists()


def test_restore_refuses_the_live_database_and_a_database_not_empty(live, new_database, tmp_path):
    _, url = new_database
    archive = tmp_path / "bank.dump"
    call_command("backup", "--output", str(archive), stdout=io.StringIO())
    auth = live.user + (f":{live.password}" if live.password else "")
    live_url = f"postgres://{auth}@{live.host}:{live.port}/{live.name}"

    with pytest.raises(CommandError, match="this bank runs on"):
        call_command("restore", "--input", str(archive), "--database-url", live_url)
    call_command("restore", "--input", str(archive), "--database-url", url, "--no-check")
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", "--input", str(archive), "--database-url", url)


def test_restore_refuses_a_missing_archive_and_a_url_without_a_database(tmp_path):
    with pytest.raises(CommandError, match="No backup"):
        call_command(
            "restore", "--input", str(tmp_path / "none.dump"), "--database-url",
            "postgres://postgres@127.0.0.1:5432/bank_never_made",
        )  # fmt: skip
    with pytest.raises(CommandError, match="must name the database"):
        call_command(
            "restore", "--input", str(tmp_path / "x"), "--database-url", "postgres://h:5432/"
        )


def test_backup_refuses_an_older_pg_dump_than_the_server(live, tmp_path, monkeypatch):
    from core import backups

    real_run = backups.subprocess.run

    def old_tools(args, **kwargs):
        if args[-1] == "--version":
            return real_run(["echo", "pg_dump (PostgreSQL) 9.6.24"], **kwargs)
        return real_run(args, **kwargs)

    monkeypatch.setattr(backups.subprocess, "run", old_tools)
    with pytest.raises(CommandError, match="install the client tools"):
        call_command("backup", "--output", str(tmp_path / "bank.dump"))
    assert not (tmp_path / "bank.dump").exists()
