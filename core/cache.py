"""Django's Redis cache backend, with one redis client per connection pool.

Django's `RedisCacheClient.get_client()` builds a new `redis.Redis` for every cache call, and
building one copies its table of response callbacks: that cost more CPU than the round trip
itself (two per API request, for the throttle). A `redis.Redis` takes a connection from its
pool for each command, so one client per pool is safe to share between threads.

`count_hit` counts in one round trip what Django's cache API needs two or three for (`add`,
then `incr`, which is EXISTS + INCRBY on Redis): the throttles' and rate limits' counters.
"""

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

    def count_hit(self, key: str, timeout: int) -> int:
        """Add one to the counter `key` (created at 0 with `timeout` seconds to live) and
        return the new count: SET NX EX and INCR in one MULTI, one round trip, atomic."""
        redis_key = self.make_and_validate_key(key)
        pipe = self._cache.get_client(redis_key, write=True).pipeline(transaction=True)
        pipe.set(redis_key, 0, ex=timeout, nx=True)
        pipe.incr(redis_key)
        return int(pipe.execute()[1])


def count_hit(key: str, timeout: int) -> int:
    """One more hit on a counter in the shared cache, the new count back: one Redis round trip
    with Redis; with another cache (the database's) a get and a set, as DRF's throttles did
    (two workers racing may count one hit once there, as with core/ratelimit.py)."""
    from django.core.cache import cache

    if hasattr(cache, "count_hit"):  # ours, on Redis
        return cache.count_hit(key, timeout)
    count = (cache.get(key) or 0) + 1
    cache.set(key, count, timeout=timeout)
    return count
