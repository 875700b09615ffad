"""Django's Redis cache backend, with one redis client per connection pool.

Django's `RedisCacheClient.get_client()` builds a new `redis.Redis` for every cache call, and
building one copies its table of response callbacks: that cost more CPU than the round trip
itself (two per API request, for the throttle). A `redis.Redis` takes a connection from its
pool for each command, so one client per pool is safe to share between threads.
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
