"""JWT authentication that remembers a token's user for a short while.

simplejwt reads the user row on every API request: one query, and in an API transfer more
Python than anything else outside the posting itself (bench/). The row changes rarely, so the
user is kept in the shared state (Redis, core/shared_state.py) for `JWT_USER_CACHE_SECONDS`,
as JSON, without the password hash (the cached copy loads it from the database if anything
asks for it). A change made through `save()` or `delete()` (the admin, `set_password`, the
services) forgets the copy at once and again when its transaction commits; only a raw UPDATE
waits for the expiry. With `JWT_USER_CACHE_SECONDS = 0` (the default without Redis) this is
simplejwt's own behaviour.

A token whose signature this process has verified is remembered too (a bounded LRU): a
client sends the same access token for its whole lifetime, and checking its HMAC again every
time took as much Python as the throttle. Its expiry is still checked on every request, and so
is revocation, which the LRU does not cache (it lives in `get_user`):

- a token whose `sv` claim (the user's `session_version` when its family was started, 0 if it
  has none) is not the user's current `session_version` is refused: a password change, a
  deactivation or "log out everywhere" raises the version (accounts.services), so every access
  token issued before it stops working at once. A counter, not a timestamp against `iat`: it
  needs no clock agreement between workers and has no same-second ambiguity.
- a token whose family (`fam` claim) was revoked (logout, reuse of a rotated refresh token) is
  refused: the revocation writes `jwt-family-revoked:<fam>` into the shared cache for one access
  lifetime, after which every access token of that family has expired anyway.

Both keys are read in the round trip that also counts the request against the user's rate
(`core.shared_state.get_many_and_count_hit`; the user throttle takes that count instead of
making its own: core/throttling.py): an authenticated API request costs one Redis round trip.
"""

import json
import threading
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, transaction
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import aware_utcnow

from core import shared_state
from core.throttling import COUNTED_HIT, Hit, UserRateThrottle

VERIFIED_TOKENS_KEPT = 4096  # per process; a few MB at most


SESSION_ENDED = "The session has ended; sign in again."


def _cache_key(user_id: Any) -> str:
    return f"jwt-user:{user_id}"


def family_revoked_key(family: str) -> str:
    return f"jwt-family-revoked:{family}"


def mark_families_revoked(families: list[str]) -> None:
    """Every access token of these families is refused from now until it expires."""
    seconds = int(api_settings.ACCESS_TOKEN_LIFETIME.total_seconds()) + 1
    shared_state.set_many({family_revoked_key(str(family)): "1" for family in families}, seconds)


class JWTAuthentication(authentication.JWTAuthentication):
    _verified: OrderedDict = OrderedDict()  # (key, raw token) -> validated token, oldest first
    _verified_lock = threading.Lock()
    request = None  # DRF makes an authenticator per request: the one being authenticated

    def authenticate(self, request):
        self.request = request
        return super().authenticate(request)

    def get_validated_token(self, raw_token):
        key = (api_settings.SIGNING_KEY, raw_token)  # verified with this key, not any other
        with self._verified_lock:
            token = self._verified.get(key)
            if token is not None:
                self._verified.move_to_end(key)
        if token is not None:
            try:
                token.check_exp(current_time=aware_utcnow())
            except TokenError:  # expired: simplejwt refuses it below, with its own message
                with self._verified_lock:
                    self._verified.pop(key, None)
            else:
                return token
        token = super().get_validated_token(raw_token)
        with self._verified_lock:
            self._verified[key] = token
            while len(self._verified) > VERIFIED_TOKENS_KEPT:
                self._verified.popitem(last=False)
        return token

    def get_user(self, validated_token):
        seconds = settings.JWT_USER_CACHE_SECONDS
        user_id = validated_token.get(api_settings.USER_ID_CLAIM)
        family = validated_token.get("fam")
        user_key = _cache_key(user_id) if seconds and user_id is not None else None
        family_key = family_revoked_key(str(family)) if family else None
        keys = [key for key in (user_key, family_key) if key]
        counter = UserRateThrottle.counter_for(str(user_id)) if user_id is not None else None
        if counter is None:
            found = shared_state.get_many(keys)
        else:
            found, count = shared_state.get_many_and_count_hit(
                keys, counter.key, counter.seconds_to_live
            )
            if self.request is not None:
                setattr(self.request, COUNTED_HIT, Hit(counter, count))
        if family_key and found.get(family_key):
            raise AuthenticationFailed(SESSION_ENDED, code="session_ended")
        user = self._user(validated_token, user_key, found.get(user_key) if user_key else None)
        if validated_token.get("sv", 0) != getattr(user, "session_version", 0):
            raise AuthenticationFailed(SESSION_ENDED, code="session_ended")
        holder_id = validated_token.get("hid")
        if isinstance(holder_id, int):  # signed by us at login (accounts/tokens.py)
            user.known_holder_id = holder_id
        return user

    def _user(self, validated_token, key: str | None, cached: str | None):
        if key is None:
            return super().get_user(validated_token)
        fields = [f for f in self.user_model._meta.concrete_fields if f.attname != "password"]
        values = json.loads(cached) if cached is not None else None
        if values is None or set(values) != {f.attname for f in fields}:
            # not cached, or cached with other fields (a deploy that migrated the user model)
            user = super().get_user(validated_token)  # refuses an unknown or inactive user
            # str() keeps a datetime's microseconds and a UUID's form; to_python reads them back
            text = json.dumps({f.attname: getattr(user, f.attname) for f in fields}, default=str)
            shared_state.set_many({key: text}, settings.JWT_USER_CACHE_SECONDS)
            return user
        if api_settings.CHECK_USER_IS_ACTIVE and not values.get("is_active", True):
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        return self.user_model.from_db(
            DEFAULT_DB_ALIAS,
            [f.attname for f in fields],
            [f.to_python(values[f.attname]) for f in fields],
        )


class JWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme (`jwtAuth`) of simplejwt's class, for this subclass."""

    target_class = JWTAuthentication


def forget_user(sender, instance, **kwargs) -> None:
    """post_save / post_delete of a user: drop the cached copy now and after the commit (a
    request between the two could otherwise cache the row as it was before)."""
    if not settings.JWT_USER_CACHE_SECONDS:
        return
    key = _cache_key(instance.pk)
    shared_state.delete(key)
    transaction.on_commit(lambda: shared_state.delete(key))


def connect_signals() -> None:
    from django.db.models.signals import post_delete, post_save

    user_model = get_user_model()
    post_save.connect(forget_user, sender=user_model, dispatch_uid="jwt-user-cache-save")
    post_delete.connect(forget_user, sender=user_model, dispatch_uid="jwt-user-cache-delete")
