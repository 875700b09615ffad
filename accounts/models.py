import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.currencies import CURRENCY_CHOICES
from accounts.numbers import format_account_number


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        # The whole address, not only the domain: email is the login and is case-insensitive.
        return (email or "").strip().lower()

    def get_by_natural_key(self, email: str) -> "User":
        return self.get(email=self.normalize_email(email))

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A login. Email is the username; the person behind it is the `Holder`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("email address", max_length=254, unique=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="user_email_lower"
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = User.objects.normalize_email(self.email)

    # UserAttributeSimilarityValidator compares a new password with these.
    @property
    def first_name(self) -> str:
        return self.holder.first_name if hasattr(self, "holder") else ""

    @property
    def last_name(self) -> str:
        return self.holder.last_name if hasattr(self, "holder") else ""


class Holder(models.Model):
    """The account holder: the person (KYC details) behind a login."""

    user = models.OneToOneField(User, models.CASCADE, related_name="holder")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    phone = models.CharField(max_length=32, blank=True)
    address = models.CharField(max_length=300, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Account(models.Model):
    """A bank account. `balance` is a cache of the sum of its ledger entries, written only by
    the ledger's services in the same database transaction as the entries."""

    class Type(models.TextChoices):
        CHECKING = "checking"
        SAVINGS = "savings"
        INTERNAL = "internal"  # the bank's own settlement account, one per currency

    class Status(models.TextChoices):
        ACTIVE = "active"
        FROZEN = "frozen"
        CLOSED = "closed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(max_length=10, unique=True)
    holder = models.ForeignKey(
        Holder, models.PROTECT, null=True, blank=True, related_name="accounts"
    )
    type = models.CharField(max_length=10, choices=Type.choices)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    balance = models.BigIntegerField(default=0)  # minor units
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.ACTIVE)
    nickname = models.CharField(max_length=140, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance__gte=0) | models.Q(type="internal"),
                name="account_customer_balance_non_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(type="internal", holder__isnull=True)
                | (~models.Q(type="internal") & models.Q(holder__isnull=False)),
                name="account_holder_iff_customer",
            ),
            models.CheckConstraint(
                condition=models.Q(type__in=["checking", "savings", "internal"]),
                name="account_type_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["active", "frozen", "closed"]),
                name="account_status_valid",
            ),
            models.UniqueConstraint(
                fields=["currency"],
                condition=models.Q(type="internal"),
                name="account_one_internal_per_currency",
            ),
        ]

    def __str__(self) -> str:
        return f"{format_account_number(self.number)} ({self.currency})"

    @property
    def is_internal(self) -> bool:
        return self.type == self.Type.INTERNAL

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def available_balance(self) -> int:
        return self.balance  # no holds yet: cards' authorisations would subtract here


class AccountStatusChange(models.Model):
    """Who froze, unfroze or closed an account, when and why. Append-only."""

    account = models.ForeignKey(Account, models.PROTECT, related_name="status_changes")
    from_status = models.CharField(max_length=6, choices=Account.Status.choices)
    to_status = models.CharField(max_length=6, choices=Account.Status.choices)
    reason = models.CharField(max_length=500)
    changed_by = models.ForeignKey(User, models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.account}: {self.from_status} -> {self.to_status}"
