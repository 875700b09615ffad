"""`manage.py restore --input FILE --database-url postgres://.../newdb`: restore a backup
into a fresh database (never the one this bank runs on), then prove its books with
`ledger_check` run against it."""

import os
import subprocess  # nosec B404  # runs manage.py ledger_check with an argument list
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.backups import BackupError, Target, restore


class Command(BaseCommand):
    help = "Restore a backup into a new, empty PostgreSQL database and check its books."

    def add_arguments(self, parser):
        parser.add_argument("--input", required=True, type=Path, help="An archive of `backup`.")
        parser.add_argument(
            "--database-url",
            required=True,
            help="postgres://user@host:5432/newdb: created if missing, refused unless empty.",
        )
        parser.add_argument(
            "--no-check", action="store_true", help="Skip ledger_check on the restored database."
        )

    def handle(self, *args, input: Path, database_url: str, no_check: bool, **options):
        try:
            target = Target.from_url(database_url)
            db = settings.DATABASES["default"]
            live = Target.from_settings(db) if "postgresql" in db["ENGINE"] else None
            restore(source=input, target=target, live=live)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Restored {input} into database {target.name}.")
        if no_check:
            return
        check = subprocess.run(  # noqa: S603  # nosec B603  # this interpreter, this project's manage.py
            [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "ledger_check"],
            env={**os.environ, "DATABASE_URL": database_url},
            capture_output=True,
            text=True,
        )
        self.stdout.write(check.stdout)
        if check.returncode != 0:
            raise CommandError(f"The restored books do NOT balance:\n{check.stderr}")
