"""`manage.py backup --output FILE`: a consistent pg_dump of the bank's PostgreSQL database
(core/backups.py). Restore it with `manage.py restore`."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.backups import BackupError, Target, backup


class Command(BaseCommand):
    help = "Back up the PostgreSQL database to FILE (pg_dump custom format, one snapshot)."

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, type=Path, help="The archive to write.")

    def handle(self, *args, output: Path, **options):
        try:
            target = Target.from_settings(settings.DATABASES["default"])
            size = backup(target=target, output=output)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Backed up database {target.name} to {output} ({size:,} bytes).")
