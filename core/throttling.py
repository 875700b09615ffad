"""DRF's throttles, keyed on `core.clients.client_address` instead of their own reading of
X-Forwarded-For, so they count the client the lockout and the rate limits count.

They count in fixed windows (one counter per client per window of the rate's duration,
`core.shared_state.count_hit`: one Redis round trip), not DRF's sliding log: DRF reads the
client's whole list of request times from the cache and writes it back on every request (two
round trips, and at the user rate of 6000/min a list of up to 6000 floats pickled each way). A
client may get up to twice the rate across a window's edge, as with core/ratelimit.py;
`Retry-After` is the rest of the window.

An API request authenticated by a JWT has already been counted against the user's rate by the
time the user throttle runs: the authentication reads the user and counts the hit in one round
trip (`UserRateThrottle.counter_for`, core/authentication.py) and leaves the count on the
request as a `Hit`, which the throttle takes instead of counting again. Every API view runs the
user throttle, so the count is the one the throttle would have made (a request refused by its
permissions, which DRF checks before throttles, is counted too).
"""

from dataclasses import dataclass

from rest_framework import throttling

from core.clients import client_address
from core.shared_state import count_hit


@dataclass(frozen=True)
class Counter:
    """A throttle's counter for one client in the window `now` falls in."""

    key: str
    seconds_to_live: int
    now: float


@dataclass(frozen=True)
class Hit:
    """A hit already counted on `counter`, and the count it made."""

    counter: Counter
    count: int


COUNTED_HIT = "counted_hit"  # the request attribute a counted Hit travels on


class _ByClientAddress:
    def get_ident(self, request) -> str:
        return client_address(request)


class _FixedWindow(throttling.SimpleRateThrottle):
    def counter(self, key: str, now: float) -> Counter:
        return Counter(f"{key}:{int(now // self.duration)}", self.duration + 1, now)

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        hit = getattr(request, COUNTED_HIT, None)
        if hit is not None and hit.counter == self.counter(self.key, hit.counter.now):
            counter, count = hit.counter, hit.count
        else:
            counter = self.counter(self.key, self.timer())
            count = count_hit(counter.key, counter.seconds_to_live)
        self.now = counter.now
        self.retry_after = (int(self.now // self.duration) + 1) * self.duration - self.now
        return count <= self.num_requests

    def wait(self) -> float:
        return self.retry_after


# The MRO puts DRF's own class first (the scoped one finds its rate from the view, then calls
# on), and _FixedWindow's count before SimpleRateThrottle's log.
class AnonRateThrottle(_ByClientAddress, throttling.AnonRateThrottle, _FixedWindow):
    pass


class UserRateThrottle(_ByClientAddress, throttling.UserRateThrottle, _FixedWindow):
    @classmethod
    def counter_for(cls, user_id: str) -> Counter | None:
        """The counter this throttle will count a request of user `user_id` on now (None when
        the user rate is off), for an authentication that counts it in its own round trip."""
        throttle = cls()
        if throttle.rate is None:
            return None
        key = throttle.cache_format % {"scope": throttle.scope, "ident": user_id}
        return throttle.counter(key, throttle.timer())


class ScopedRateThrottle(_ByClientAddress, throttling.ScopedRateThrottle, _FixedWindow):
    pass
