from datetime import date

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.errors import EmailTakenError, InvalidTokenError, WeakPasswordError
from accounts.models import Holder, User, UserManager


def check_password_strength(*, password: str, email: str, first_name: str, last_name: str) -> None:
    """Django's validators (length, common, numeric, similar to the holder's name or email)."""
    person = User(email=email)
    Holder(user=person, first_name=first_name, last_name=last_name)  # caches person.holder
    try:
        password_validation.validate_password(password, user=person)
    except DjangoValidationError as error:
        raise WeakPasswordError(list(error.messages)) from None


@transaction.atomic
def register_customer(*, email: str, password: str, first_name: str, last_name: str) -> User:
    """A new login and its account holder, or nothing at all."""
    email = UserManager.normalize_email(email)
    check_password_strength(
        password=password, email=email, first_name=first_name, last_name=last_name
    )
    if User.objects.filter(email=email).exists():
        raise EmailTakenError()
    try:
        with transaction.atomic():  # a concurrent signup with the same email loses here
            user = User.objects.create_user(email=email, password=password)
    except IntegrityError:
        raise EmailTakenError() from None
    Holder.objects.create(user=user, first_name=first_name, last_name=last_name)
    return user


@transaction.atomic
def update_profile(
    *,
    user: User,
    first_name: str | None = None,
    last_name: str | None = None,
    phone: str | None = None,
    address: str | None = None,
    date_of_birth: date | None = None,
) -> Holder:
    """Change the holder's details; an argument left as None keeps its value."""
    holder, _ = Holder.objects.select_for_update().get_or_create(user=user)
    changes = {
        "first_name": first_name,
        "last_name": last_name,
        "phone": phone,
        "address": address,
        "date_of_birth": date_of_birth,
    }
    changed = [field for field, value in changes.items() if value is not None]
    for field in changed:
        setattr(holder, field, changes[field])
    if changed:
        holder.save(update_fields=[*changed, "updated_at"])
    return holder


def revoke_refresh_token(*, refresh: str) -> None:
    """Log out: the refresh token is blacklisted and can never mint an access token again."""
    try:
        RefreshToken(refresh).blacklist()
    except TokenError:
        raise InvalidTokenError() from None
