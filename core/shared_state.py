"""What every worker must see at once and an authenticated API request reads: the throttles'
counters, the marks of revoked JWT families and the JWT user cache (core/throttling.py,
core/authentication.py).

With Redis (`REDIS_URL`) they live there, spoken to through redis-py's own client (one per
process: it is thread-safe and pools its connections) and two small Lua scripts, each one
command, atomic, with one reply:

- `count_hit`: one more hit on a counter that expires (the fixed-window throttles);
- `get_many_and_count_hit`: that, and the values of a few keys, in the same round trip. An
  authenticated API request reads its cached user and its family's revocation mark and counts
  itself against the user's rate together: one round trip where it took two (a MULTI/EXEC
  pipeline for the count, an MGET for the reads), and a third of the Python.

Values are text (the user cache stores JSON). Keys are namespaced `bank:`. Django's cache
(sessions, the rate limits of core/ratelimit.py) is Django's own Redis backend, untouched.

Without Redis (development, the SQLite test runs) Django's cache (the database) holds the same
keys and values through the same functions: a count there is a read and a write, so two
workers racing may count one hit once, as DRF's throttles did.
"""

import redis
from django.conf import settings
from django.core.cache import cache

PREFIX = "bank:"

_COUNT_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
# The count of KEYS[1] as above, then the values of KEYS[2..n] (false where there is none).
_GET_MANY_AND_COUNT_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local values = {count}
if #KEYS > 1 then
  for _, value in ipairs(redis.call('MGET', unpack(KEYS, 2))) do table.insert(values, value) end
end
return values
"""

_clients: dict[str, tuple[redis.Redis, dict]] = {}  # REDIS_URL -> (client, its scripts)


def _redis() -> tuple[redis.Redis, dict] | None:
    url = settings.REDIS_URL
    if not url:
        return None
    found = _clients.get(url)
    if found is None:
        client = redis.Redis.from_url(url, decode_responses=True)
        found = _clients[url] = (
            client,
            {
                "count": client.register_script(_COUNT_HIT),
                "get_many_and_count": client.register_script(_GET_MANY_AND_COUNT_HIT),
            },
        )
    return found


def count_hit(key: str, timeout: int) -> int:
    """One more hit on the counter `key` (made with `timeout` seconds to live): the new count."""
    found = _redis()
    if found is None:
        count = (cache.get(PREFIX + key) or 0) + 1
        cache.set(PREFIX + key, count, timeout=timeout)
        return count
    _client, scripts = found
    return int(scripts["count"](keys=[PREFIX + key], args=[timeout]))


def get_many_and_count_hit(
    keys: list[str], counter: str, timeout: int
) -> tuple[dict[str, str], int]:
    """The values of `keys` that are set, and `count_hit(counter, timeout)`: one round trip."""
    found = _redis()
    if found is None:
        return get_many(keys), count_hit(counter, timeout)
    _client, scripts = found
    count, *values = scripts["get_many_and_count"](
        keys=[PREFIX + counter, *(PREFIX + key for key in keys)], args=[timeout]
    )
    return {key: value for key, value in zip(keys, values, strict=True) if value}, int(count)


def get_many(keys: list[str]) -> dict[str, str]:
    if not keys:
        return {}
    found = _redis()
    if found is None:
        values = cache.get_many([PREFIX + key for key in keys])
        return {key: values[PREFIX + key] for key in keys if PREFIX + key in values}
    client, _scripts = found
    return {
        key: value
        for key, value in zip(keys, client.mget([PREFIX + k for k in keys]), strict=True)
        if value
    }


def set_many(values: dict[str, str], timeout: int) -> None:
    found = _redis()
    if found is None:
        cache.set_many({PREFIX + key: value for key, value in values.items()}, timeout=timeout)
        return
    client, _scripts = found
    with client.pipeline(transaction=False) as pipe:
        for key, value in values.items():
            pipe.set(PREFIX + key, value, ex=timeout)
        pipe.execute()


def delete(key: str) -> None:
    found = _redis()
    if found is None:
        cache.delete(PREFIX + key)
        return
    client, _scripts = found
    client.delete(PREFIX + key)
