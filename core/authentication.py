"""JWT authentication that remembers a token's user for a short while.

simplejwt reads the user row on every API request: one query, and in an API transfer more
Python than anything else outside the posting itself (bench/). The row changes rarely, so the
user is kept in the shared cache (Redis) for `JWT_USER_CACHE_SECONDS`, without the password
hash (the cached copy loads it from the database if anything asks for it). A change made
through `save()` or `delete()` (the admin, `set_password`, the services) forgets the copy at
once and again when its transaction commits; only a raw UPDATE waits for the expiry. With
`JWT_USER_CACHE_SECONDS = 0` (the default without Redis) this is simplejwt's own behaviour.

A token whose signature this process has verified is remembered too (a bounded LRU): a
client sends the same access token for its whole lifetime, and checking its HMAC again every
time took as much Python as the throttle. Its expiry is still checked on every request; an
access token cannot be revoked before it expires, so nothing else can have changed.
"""

import threading
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, transaction
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import aware_utcnow

VERIFIED_TOKENS_KEPT = 4096  # per process; a few MB at most


def _cache_key(user_id: Any) -> str:
    return f"jwt-user:{user_id}"


class JWTAuthentication(authentication.JWTAuthentication):
    _verified: OrderedDict = OrderedDict()  # (key, raw token) -> validated token, oldest first
    _verified_lock = threading.Lock()

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
        if not seconds or user_id is None:
            return super().get_user(validated_token)
        key = _cache_key(user_id)
        fields = cache.get(key)
        if fields is None:
            user = super().get_user(validated_token)  # refuses an unknown or inactive user
            fields = {
                f.attname: getattr(user, f.attname)
                for f in self.user_model._meta.concrete_fields
                if f.attname != "password"
            }
            cache.set(key, fields, seconds)
            return user
        if api_settings.CHECK_USER_IS_ACTIVE and not fields.get("is_active", True):
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        return self.user_model.from_db(DEFAULT_DB_ALIAS, list(fields), list(fields.values()))


class JWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme (`jwtAuth`) of simplejwt's class, for this subclass."""

    target_class = JWTAuthentication


def forget_user(sender, instance, **kwargs) -> None:
    """post_save / post_delete of a user: drop the cached copy now and after the commit (a
    request between the two could otherwise cache the row as it was before)."""
    if not settings.JWT_USER_CACHE_SECONDS:
        return
    key = _cache_key(instance.pk)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def connect_signals() -> None:
    from django.db.models.signals import post_delete, post_save

    user_model = get_user_model()
    post_save.connect(forget_user, sender=user_model, dispatch_uid="jwt-user-cache-save")
    post_delete.connect(forget_user, sender=user_model, dispatch_uid="jwt-user-cache-delete")
