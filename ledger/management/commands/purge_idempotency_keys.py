"""`manage.py purge_idempotency_keys [--commit]`: drop keys older than the retention
(IDEMPOTENCY_KEY_TTL, at least 24 h). A dry run unless --commit."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from ledger.models import IdempotencyKey


class Command(BaseCommand):
    help = "Delete idempotency keys older than IDEMPOTENCY_KEY_TTL (dry run unless --commit)."

    def add_arguments(self, parser):
        parser.add_argument("--commit", action="store_true", help="Really delete.")

    def handle(self, *args, commit: bool, **options):
        cutoff = timezone.now() - settings.IDEMPOTENCY_KEY_TTL
        when = f"{cutoff:%Y-%m-%d %H:%M} UTC"
        expired = IdempotencyKey.objects.filter(created_at__lt=cutoff)
        if not commit:
            self.stdout.write(f"Dry run: would delete {expired.count()} keys older than {when}.")
            return
        deleted, _ = expired.delete()
        self.stdout.write(f"Deleted {deleted} keys older than {when}.")
