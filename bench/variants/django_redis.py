"""Django's own RedisCache instead of core.cache's one-client-per-pool subclass."""

from bankproject.settings import *  # noqa: F403
from bankproject.settings import CACHES

if CACHES["default"]["BACKEND"] == "core.cache.RedisCache":
    CACHES["default"]["BACKEND"] = "django.core.cache.backends.redis.RedisCache"
