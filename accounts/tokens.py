"""The API's refresh token: simplejwt's `RefreshToken` with a family and an absolute lifetime.

A login starts a family: the token gets `fam` (a random id), `auth_time` (the login, epoch
seconds), `sv` (the user's `session_version`) and, for a customer, `hid` (their holder's id).
Rotation copies them into the next refresh token, so they travel through every rotation; an
access token copies every claim of its refresh token but `exp`, `iat` and `jti` (simplejwt),
so it carries them too.

`hid` is what lets an API request find the caller's accounts by `holder_id` alone, without a
join through the holder to the user (core/authentication.py hands it on as
`User.known_holder_id`; ledger.models.AccountQuerySet.held_by). A holder never changes user,
so the claim cannot go stale; a token without it (a staff login, a token minted before the
claim existed) is served by the join, as before.

No refresh token of a family expires later than `auth_time + JWT_SESSION_MAX_HOURS`: rotation
gives a token the usual `REFRESH_TOKEN_LIFETIME`, cut at that bound. Every refresh token is an
`OutstandingToken` (simplejwt's blacklist app) linked to its family (`RefreshTokenFamily`).
The rules that use all this (reuse, revocation) are in accounts/services.py.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch, datetime_to_epoch

from accounts.models import Holder, RefreshTokenFamily, User

FAMILY = "fam"
AUTH_TIME = "auth_time"
SESSION_VERSION = "sv"
CLAIMS = (FAMILY, AUTH_TIME, SESSION_VERSION)
HOLDER = "hid"  # only a customer's tokens have it


class ReusedTokenError(TokenError):
    """A well-signed, unexpired refresh token that is already blacklisted: rotated before (a
    copy is being replayed) or revoked. The payload names the family to revoke."""

    def __init__(self, payload: dict):
        super().__init__("Token is blacklisted")
        self.payload = payload


def session_max_age() -> timedelta:
    return timedelta(hours=settings.JWT_SESSION_MAX_HOURS)


class SessionRefreshToken(RefreshToken):
    def check_blacklist(self) -> None:
        try:
            super().check_blacklist()
        except TokenError:
            raise ReusedTokenError(self.payload) from None

    @classmethod
    def for_user(cls, user: User) -> "SessionRefreshToken":
        """A new login: a new family, written to the outstanding list."""
        token = cls()
        token[api_settings.USER_ID_CLAIM] = str(getattr(user, api_settings.USER_ID_FIELD))
        token[FAMILY] = uuid.uuid4().hex
        token[AUTH_TIME] = token["iat"]
        token[SESSION_VERSION] = user.session_version
        holder_id = Holder.objects.filter(user=user).values_list("pk", flat=True).first()
        if holder_id is not None:
            token[HOLDER] = holder_id
        token.cap_exp()
        token.write_outstanding(user)
        return token

    def rotated(self, user: User) -> "SessionRefreshToken":
        """The next token of this family: a new id and lifetime, the same login."""
        token = type(self)()
        token[api_settings.USER_ID_CLAIM] = self[api_settings.USER_ID_CLAIM]
        for claim in CLAIMS:
            token[claim] = self[claim]
        if HOLDER in self.payload:
            token[HOLDER] = self[HOLDER]
        token.cap_exp()
        token.write_outstanding(user)
        return token

    @property
    def family_ends_at(self) -> int:
        return int(self[AUTH_TIME]) + int(session_max_age().total_seconds())

    def cap_exp(self) -> None:
        if self["exp"] > self.family_ends_at:
            self["exp"] = self.family_ends_at

    def has_family(self) -> bool:
        return all(isinstance(self.payload.get(claim), str | int) for claim in CLAIMS)

    def family_expired(self) -> bool:
        return datetime_to_epoch(self.current_time) >= self.family_ends_at

    @transaction.atomic
    def write_outstanding(self, user: User) -> None:
        outstanding = OutstandingToken.objects.create(
            user=user,
            jti=self[api_settings.JTI_CLAIM],
            token=str(self),
            created_at=self.current_time,
            expires_at=datetime_from_epoch(self["exp"]),
        )
        RefreshTokenFamily.objects.create(token=outstanding, family=self[FAMILY])
