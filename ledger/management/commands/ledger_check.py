"""`manage.py ledger_check`: prove the books. Exit 1 with a report when anything is off. Each
run's outcome is kept (LedgerCheckRun) for the admin's front page."""

import sys

from django.core.management.base import BaseCommand

from ledger import clock, services
from ledger.checks import check_ledger


class Command(BaseCommand):
    help = "Prove the ledger: balanced transactions, true cached balances, a bank summing to zero."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=50, help="Problems listed per check.")

    def handle(self, *args, limit, **options):
        started_at = clock.now()
        report = check_ledger(limit=limit)
        services.record_ledger_check(started_at=started_at, report=report)
        self.stdout.write(
            f"Checked {report.transactions} transactions, {report.entries} entries, "
            f"{report.accounts} accounts."
        )
        for check, problems in report.problems.items():
            mark = "ok  " if not problems else "FAIL"
            self.stdout.write(f"  [{mark}] no {check}")
            for problem in problems:
                self.stdout.write(f"         {problem}")
        if report.ok:
            self.stdout.write(self.style.SUCCESS("The books balance."))
            return
        self.stderr.write(self.style.ERROR("The books do NOT balance."))
        sys.exit(1)
