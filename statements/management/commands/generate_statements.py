"""`manage.py generate_statements --month YYYY-MM`: issue that month's statement for every
customer account that existed in it. Idempotent: a second run issues nothing new."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from ledger.models import Account
from statements import services
from statements.periods import FORMAT_HELP, Period


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM, a month that has ended.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, month: str, no_progress: bool, **options):
        try:
            period = Period.parse(month)
        except ValueError:
            raise CommandError(f"--month {month!r}: {FORMAT_HELP}") from None
        if period.is_open(timezone.now()):
            raise CommandError(f"{period} has not ended yet: its statements are still open.")
        accounts = (
            Account.objects.customer()
            .filter(created_at__lt=period.end)
            .select_related("holder")
            .order_by("created_at", "id")
        )
        issued = already = 0
        for account in tqdm(
            accounts.iterator(chunk_size=500),
            total=accounts.count(),
            desc=f"Statements {period}",
            unit="account",
            disable=no_progress,
            file=self.stderr,
        ):
            _, new = services.issue_statement(account=account, period=period)
            issued += new
            already += not new
        self.stdout.write(
            f"{period}: issued {issued} statement(s); {already} already issued; "
            f"{issued + already} account(s) in all."
        )
