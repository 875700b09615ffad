import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken


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
    # Raised by accounts.services.revoke_all_sessions (password change, deactivation, "log out
    # everywhere"); every JWT carries the value it was minted with (claim `sv`), and a token
    # whose value is not the user's current one is refused (core/authentication.py).
    session_version = models.PositiveIntegerField(default=0, editable=False)
    # Not a column: the id of this user's Holder when the request's credentials vouch for it
    # (an API access token's `hid` claim, accounts/tokens.py), so reads of "my accounts" can
    # filter on it without joining the holder (ledger.models.AccountQuerySet.held_by). None
    # when unknown (the portal's session, a staff login): those reads join, as before.
    known_holder_id: int | None = None

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


def holder_name(first_name: str, last_name: str) -> str:
    """A holder's name as pages, histories and statements show it: `Holder.full_name`, for a
    reader that has the two columns and no Holder (a statement's thousand lines)."""
    return f"{first_name} {last_name}".strip()


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
        return holder_name(self.first_name, self.last_name)


class RefreshTokenFamily(models.Model):
    """Which login (token family, the `fam` claim) an outstanding refresh token belongs to, so
    that a whole family is revoked with one set-based statement (accounts.services)."""

    token = models.OneToOneField(
        OutstandingToken, models.CASCADE, primary_key=True, related_name="session_family"
    )
    family = models.UUIDField(db_index=True)

    def __str__(self) -> str:
        return f"{self.family} / {self.token_id}"
