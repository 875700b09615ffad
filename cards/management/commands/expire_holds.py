"""`manage.py expire_holds`: release every card authorisation past its `expires_at`
(HOLD_LIFETIME after it was made). Idempotent and safe to run from cron every minute, beside
itself and beside captures: see `cards.services.expire_holds`."""

from django.core.management.base import BaseCommand

from cards import services


class Command(BaseCommand):
    help = "Release the card authorisations (holds) that have expired."

    def handle(self, *args, **options):
        released = services.expire_holds()
        self.stdout.write(f"Released {released} expired hold{'s' if released != 1 else ''}.")
