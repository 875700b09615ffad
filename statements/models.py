from django.db import models
from django.db.models import Q

from ledger.ids import uuid7
from ledger.models import Account


class Statement(models.Model):
    """An issued statement: one account's month, fixed for good.

    `content` is the statement's canonical JSON text (sorted keys, no spaces, UTF-8) and
    `sha256` its digest; JSON, CSV and PDF are all made from `content`, so an issued statement
    is served exactly as issued whatever the ledger does later (a correction is a reversal in a
    later month). The totals are columns too, for the admin and for queries. Never updated:
    a trigger refuses it on both databases."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    account = models.ForeignKey(Account, models.PROTECT, related_name="statements")
    period = models.CharField(max_length=7)  # YYYY-MM
    currency = models.CharField(max_length=3)
    opening_balance = models.BigIntegerField()
    closing_balance = models.BigIntegerField()
    total_credits = models.BigIntegerField()
    total_debits = models.BigIntegerField()
    entry_count = models.PositiveIntegerField()
    content = models.TextField()
    sha256 = models.CharField(max_length=64)
    issued_at = models.DateTimeField()

    class Meta:
        ordering = ["-period"]
        constraints = [
            models.UniqueConstraint(fields=["account", "period"], name="statement_one_per_month"),
            models.CheckConstraint(
                condition=Q(
                    opening_balance=models.F("closing_balance")
                    - models.F("total_credits")
                    + models.F("total_debits")
                ),
                name="statement_totals_add_up",
            ),
            models.CheckConstraint(
                condition=Q(total_credits__gte=0, total_debits__gte=0),
                name="statement_totals_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.period}"
