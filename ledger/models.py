from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account, User
from ledger.ids import uuid7


class Transaction(models.Model):
    """One movement of money: two or more entries that sum to zero per currency. Immutable;
    a mistake is undone by a reversal transaction."""

    class Kind(models.TextChoices):
        TRANSFER = "transfer"
        DEPOSIT = "deposit"
        WITHDRAWAL = "withdrawal"
        CARD_PAYMENT = "card_payment"
        REVERSAL = "reversal"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    description = models.CharField(max_length=140, blank=True)
    initiated_by = models.ForeignKey(User, models.PROTECT, null=True, related_name="+")
    reverses = models.OneToOneField(
        "self", models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=["transfer", "deposit", "withdrawal", "card_payment", "reversal"]
                ),
                name="transaction_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind="reversal", reverses__isnull=False)
                | (~Q(kind="reversal") & Q(reverses__isnull=True)),
                name="transaction_reversal_names_original",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"


class Entry(models.Model):
    """One leg of a transaction on one account, in signed minor units (+ credit, - debit).

    `balance_after` is the account's running balance after this entry, so history and
    statements never re-sum the past. `counterparty` is the other leg's account (fixed at
    posting), so a history line names who paid or was paid without reading other entries.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    transaction = models.ForeignKey(Transaction, models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, models.PROTECT, related_name="entries")
    counterparty = models.ForeignKey(
        Account, models.PROTECT, null=True, blank=True, related_name="+"
    )
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    balance_after = models.BigIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "entries"
        indexes = [
            models.Index(fields=["account", "-created_at", "-id"], name="entry_account_history"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_nonzero"),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} {self.currency} on {self.account_id}"


class IdempotencyKey(models.Model):
    """A money-moving request's `Idempotency-Key`, the fingerprint of its request and the
    response it got. Written in the same database transaction as the posting: a retry finds
    the finished response or nothing at all."""

    id = models.BigAutoField(primary_key=True)
    scope = models.CharField(max_length=64)  # "user:<uuid>" or "card:<uuid>"
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    transaction = models.ForeignKey(Transaction, models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key"], name="idempotency_key_unique_per_scope"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
