"""On the SQLite demo database the backup commands say what to do instead."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="on PostgreSQL the backups run: test_backups.py"
)


def test_backup_on_sqlite_says_to_copy_the_file(tmp_path):
    with pytest.raises(CommandError, match=r"copy var/bank\.sqlite3"):
        call_command("backup", "--output", str(tmp_path / "bank.dump"))
    assert not (tmp_path / "bank.dump").exists()


def test_restore_needs_a_postgres_url(tmp_path):
    with pytest.raises(CommandError, match="postgres://"):
        call_command("restore", "--input", str(tmp_path / "x"), "--database-url", "sqlite:///x.db")
