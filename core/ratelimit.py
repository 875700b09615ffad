"""Fixed-window rate limits on Django's cache, so every worker and every host counts together
(Redis in production; the database cache without it).

    ratelimit.hit("login", client_address(request))   # count this attempt; refuse past the limit
    ratelimit.check("login_email", email)              # refuse when already past, count nothing

`settings.RATE_LIMITS` maps a scope to "N/seconds" (or N/min, N/hour). Keys are hashed, so an
email address never lands in the cache's keys. A refusal is `RateLimited`: 429 `throttled`
with `Retry-After`, rendered by `core.errors.error_response` (the envelope or the 429 page).

With the database cache, `incr` is a read and a write, so two workers racing may count one
attempt once; Redis counts atomically.
"""

import hashlib
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from rest_framework import status

from core.errors import BankError

_UNITS = {"s": 1, "sec": 1, "min": 60, "m": 60, "hour": 3600, "h": 3600, "day": 86400, "d": 86400}


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int


def parse_rate(text: str) -> Rate:
    """`"10/15min"`, `"30/min"`, `"5/3600"`: a count per window."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d*)\s*([a-z]*)\s*", text)
    if not match or (not match[2] and not match[3]) or match[3] not in ("", *_UNITS):
        raise ValueError(f"A rate is N/seconds, N/min or N/15min, not {text!r}.")
    seconds = int(match[2] or 1) * _UNITS.get(match[3], 1)
    return Rate(limit=int(match[1]), seconds=seconds)


class RateLimited(BankError):
    code = "throttled"
    http_status = status.HTTP_429_TOO_MANY_REQUESTS

    def __init__(self, retry_after: int):
        self.retry_after = max(1, retry_after)
        minutes = -(-self.retry_after // 60)
        super().__init__(f"Too many attempts. Try again in {minutes} minute(s).")

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


def rate_for(scope: str) -> Rate:
    return parse_rate(settings.RATE_LIMITS[scope])


def _slot(scope: str, key: str, rate: Rate, now: float) -> tuple[str, int]:
    window = int(now // rate.seconds)
    digest = hashlib.sha256(f"{scope}\0{key}".encode()).hexdigest()[:32]
    retry_after = int((window + 1) * rate.seconds - now) + 1
    return f"ratelimit:{scope}:{digest}:{window}", retry_after


def hit(scope: str, key: str, *, refuse: bool = True) -> int:
    """Count one attempt for `key` in `scope`; `RateLimited` once past the limit (unless
    `refuse` is off: a failure counted after the fact, refused at the next `check`)."""
    rate, now = rate_for(scope), time.time()
    slot, retry_after = _slot(scope, key, rate, now)
    cache.add(slot, 0, timeout=rate.seconds + 1)
    try:
        count = cache.incr(slot)
    except ValueError:  # expired between add and incr: this attempt opens a new window
        cache.set(slot, 1, timeout=rate.seconds + 1)
        count = 1
    if refuse and count > rate.limit:
        raise RateLimited(retry_after)
    return count


def check(scope: str, key: str) -> None:
    """`RateLimited` if `key` has already used up `scope` in this window; counts nothing."""
    rate, now = rate_for(scope), time.time()
    slot, retry_after = _slot(scope, key, rate, now)
    if (cache.get(slot) or 0) >= rate.limit:
        raise RateLimited(retry_after)
