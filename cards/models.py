"""Cards and their payments. A card keeps no full number and no CVC (PCI DSS v4.0 3.3.1.2,
3.4.1): `last4` to show, and a keyed fingerprint of the number (`cards/keys.py`) with the id of
the key that made it, to find the card when it pays."""

from datetime import date

from django.db import models
from django.db.models import Q
from django.utils import timezone

from ledger.ids import uuid7
from ledger.models import Account, Transaction


class CardQuerySet(models.QuerySet):
    def held_by(self, user) -> "CardQuerySet":
        """The cards on accounts `user` holds: the only ones a customer can address by id."""
        return self.filter(account__in=Account.objects.held_by(user))


class Card(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        FROZEN = "frozen"
        CANCELLED = "cancelled"  # final

    class Brand(models.TextChoices):
        VISA = "visa"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    account = models.ForeignKey(Account, models.PROTECT, related_name="cards")
    brand = models.CharField(max_length=10, choices=Brand.choices, default=Brand.VISA)
    last4 = models.CharField(max_length=4)
    fingerprint = models.CharField(max_length=64, unique=True)  # HMAC-SHA-256 hex of the PAN
    key_id = models.CharField(max_length=16)  # which CARD_PAN_KEYS key made the fingerprint
    expiry_month = models.PositiveSmallIntegerField()
    expiry_year = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.ACTIVE)
    daily_limit = models.BigIntegerField()  # minor units of the account's currency
    # Wrong CVCs (or expiries) presented today (UTC); CARD_CVC_FAILURES_TO_FREEZE freezes it.
    cvc_failures = models.PositiveSmallIntegerField(default=0)
    cvc_failures_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = CardQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(daily_limit__gt=0), name="card_limit_positive"),
            models.CheckConstraint(
                condition=Q(expiry_month__gte=1, expiry_month__lte=12),
                name="card_expiry_month_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "frozen", "cancelled"]),
                name="card_status_valid",
            ),
            models.CheckConstraint(condition=Q(last4__regex=r"^[0-9]{4}$"), name="card_last4"),
        ]

    def __str__(self) -> str:
        return f"{self.get_brand_display()} •••• {self.last4}"

    @property
    def masked(self) -> str:
        return f"•••• •••• •••• {self.last4}"

    def expired_on(self, today: date) -> bool:
        """A card is valid to the last day of its expiry month."""
        return (today.year, today.month) > (self.expiry_year, self.expiry_month)


class CardAuthorizationQuerySet(models.QuerySet):
    def open(self) -> "CardAuthorizationQuerySet":
        """Holds that still hold money: pending (a pending one past `expires_at` holds it until
        `expire_holds` releases it, but can no longer be captured)."""
        return self.filter(status=CardAuthorization.Status.PENDING)


class CardAuthorization(models.Model):
    """A merchant's authorisation: `amount` held on the card's account until it is captured
    (in one or more parts, each a card payment), voided or expired. What remains of it
    (`amount - captured_amount`) while pending is part of the account's `held`."""

    class Status(models.TextChoices):
        PENDING = "pending"  # money held
        CLOSED = "closed"  # fully captured
        VOIDED = "voided"
        EXPIRED = "expired"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    card = models.ForeignKey(Card, models.PROTECT, related_name="authorizations")
    account = models.ForeignKey(Account, models.PROTECT, related_name="card_authorizations")
    amount = models.BigIntegerField()  # minor units of the account's currency
    captured_amount = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    merchant = models.CharField(max_length=140)
    status = models.CharField(max_length=7, choices=Status.choices, default=Status.PENDING)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField()

    objects = CardAuthorizationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["card", "created_at"], name="card_authorization_by_day"),
            models.Index(
                fields=["expires_at"],
                condition=Q(status="pending"),
                name="card_authorization_pending",
            ),
            models.Index(
                fields=["account", "created_at"],
                condition=Q(status="pending"),
                name="card_authorization_open",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="card_authorization_positive"),
            models.CheckConstraint(
                condition=Q(captured_amount__gte=0, captured_amount__lte=models.F("amount")),
                name="card_authorization_captured_within",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "closed", "voided", "expired"]),
                name="card_authorization_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(captured_amount=models.F("amount")),
                name="card_authorization_closed_when_used_up",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} held for {self.merchant} ({self.status})"

    @property
    def remaining(self) -> int:
        return self.amount - self.captured_amount


class CardPayment(models.Model):
    """An approved card payment: the ledger transaction it posted, and where it was spent.
    Today's direct payments of a card (no `authorization`) are part of what its daily limit
    counts; a capture's payment names its authorisation, whose amount counted already."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    card = models.ForeignKey(Card, models.PROTECT, related_name="payments")
    transaction = models.OneToOneField(Transaction, models.PROTECT, related_name="card_payment")
    authorization = models.ForeignKey(
        CardAuthorization, models.PROTECT, null=True, blank=True, related_name="captures"
    )
    amount = models.BigIntegerField()  # minor units of the card's account's currency
    currency = models.CharField(max_length=3)
    merchant = models.CharField(max_length=140)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["card", "created_at"], name="card_payment_by_day")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="card_payment_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} at {self.merchant}"
