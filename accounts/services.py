from datetime import date

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.errors import EmailTakenError, InvalidTokenError, WeakPasswordError
from accounts.models import Holder, User, UserManager
from accounts.tokens import FAMILY, SESSION_VERSION, ReusedTokenError, SessionRefreshToken
from audit import services as audit
from audit.models import AuditRecord
from core.authentication import forget_user, mark_families_revoked
from core.errors import ValidationFailed


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


# --- Sessions: API token families (accounts/tokens.py) and their revocation ------------------
#
# A refresh token is refused (401 `authentication_failed`) when it is forged, expired, past its
# family's absolute lifetime, of an inactive user, older than the user's `session_version`, or
# blacklisted. Presenting a blacklisted one (a rotated token replayed: someone holds a copy)
# revokes its whole family first, so the thief's and the owner's current tokens both die.


def _read_refresh(raw: str) -> SessionRefreshToken:
    """A verified refresh token, or 401; a replayed (blacklisted) one revokes its family."""
    try:
        return SessionRefreshToken(raw)
    except ReusedTokenError as reuse:
        if reuse.payload.get(FAMILY):
            revoke_family(family=reuse.payload[FAMILY])
        raise InvalidTokenError() from None
    except TokenError:
        raise InvalidTokenError() from None


def _token_user(token: SessionRefreshToken) -> User:
    user = User.objects.filter(pk=token.get(api_settings.USER_ID_CLAIM)).first()
    if user is None or not user.is_active:
        raise InvalidTokenError()
    return user


def _blacklist(tokens: QuerySet[OutstandingToken]) -> int:
    """Blacklist every live token of the set at once: one read of the ids, one bulk insert
    (a token blacklisted meanwhile by someone else is skipped by the unique constraint)."""
    ids = list(
        tokens.filter(expires_at__gt=timezone.now(), blacklistedtoken__isnull=True).values_list(
            "pk", flat=True
        )
    )
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token_id=pk) for pk in ids], ignore_conflicts=True
    )
    return len(ids)


def rotate_refresh_token(*, refresh: str) -> dict[str, str]:
    """A new access and refresh token for a valid refresh token, which stops working.

    The new refresh token keeps the family, its login time and its session version, and never
    outlives `auth_time + JWT_SESSION_MAX_HOURS` (accounts/tokens.py). Blacklisting the old
    token is a `get_or_create` on a unique row, so of two concurrent rotations of one token
    only one wins; the other is a reuse and revokes the family.
    """
    token = _read_refresh(refresh)
    user = _token_user(token)
    if (
        not token.has_family()
        or token.family_expired()
        or token[SESSION_VERSION] != user.session_version
    ):
        raise InvalidTokenError()
    with transaction.atomic():
        outstanding = OutstandingToken.objects.filter(jti=token[api_settings.JTI_CLAIM]).first()
        if outstanding is None:
            raise InvalidTokenError()
        _, first_use = BlacklistedToken.objects.get_or_create(token=outstanding)
        if first_use:
            new = token.rotated(user)
    if not first_use:  # outside the block above: the revocation must commit before the 401
        revoke_family(family=token[FAMILY])
        raise InvalidTokenError()
    return {"access": str(new.access_token), "refresh": str(new)}


@transaction.atomic
def revoke_family(*, family: str) -> int:
    """End one login: every refresh token of the family is blacklisted and every access token
    of the family is refused until it expires (core/authentication.py)."""
    count = _blacklist(OutstandingToken.objects.filter(session_family__family=family))
    mark_families_revoked([family])
    return count


@transaction.atomic
def revoke_all_sessions(*, user: User) -> int:
    """End every API session of the user at once: all their refresh tokens are blacklisted,
    and raising `session_version` refuses every token (access or refresh) minted before.

    Called by the `post_save` receiver in accounts/signals.py when a user's password changes
    or the user is deactivated (the portal, the admin, any code that saves the user), and by
    `logout(everywhere=True)`. The portal's own sessions end through Django's session hash.
    """
    User.objects.filter(pk=user.pk).update(session_version=F("session_version") + 1)
    user.refresh_from_db(fields=["session_version"])
    forget_user(sender=User, instance=user)  # an UPDATE sends no post_save
    return _blacklist(OutstandingToken.objects.filter(user=user))


def logout(*, refresh: str, everywhere: bool = False) -> None:
    """Log out one login (the refresh token's family: its refresh tokens, and its access tokens
    until they expire) or, with `everywhere`, every login of the token's user."""
    token = _read_refresh(refresh)
    if everywhere:
        revoke_all_sessions(user=_token_user(token))
    elif token.has_family():
        revoke_family(family=token[FAMILY])
    else:  # a token minted without a family (not by the token endpoint)
        token.blacklist()


@transaction.atomic
def deactivate_user(*, user: User, by: User | None = None, reason: str = "") -> User:
    """Staff: the user can no longer sign in, and every session ends (accounts/signals.py).
    A person (`by`) gives a reason, kept in the audit record with the deactivation."""
    if by is not None and not reason.strip():
        raise ValidationFailed({"reason": ["A reason is required for every staff action."]})
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit.record(
        actor=by,
        action=AuditRecord.Action.DEACTIVATE,
        target_type=AuditRecord.Target.USER,
        target_id=user.pk,
        target_label=user.email,
        reason=reason or "Deactivated by the bank's own process",
    )
    return user
