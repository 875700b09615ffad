"""DRF's throttles, keyed on `core.clients.client_address` instead of their own reading of
X-Forwarded-For, so they count the client the lockout and the rate limits count.

They count in fixed windows (one counter per client per window of the rate's duration,
`core.cache.count_hit`: one Redis round trip), not DRF's sliding log: DRF reads the client's
whole list of request times from the cache and writes it back on every request (two round
trips, and at the user rate of 6000/min a list of up to 6000 floats pickled each way). A
client may get up to twice the rate across a window's edge, as with core/ratelimit.py;
`Retry-After` is the rest of the window.
"""

from rest_framework import throttling

from core.cache import count_hit
from core.clients import client_address


class _ByClientAddress:
    def get_ident(self, request) -> str:
        return client_address(request)


class _FixedWindow(throttling.SimpleRateThrottle):
    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.retry_after = (window + 1) * self.duration - self.now
        count = count_hit(f"{self.key}:{window}", self.duration + 1)
        return count <= self.num_requests

    def wait(self) -> float:
        return self.retry_after


# The MRO puts DRF's own class first (the scoped one finds its rate from the view, then calls
# on), and _FixedWindow's count before SimpleRateThrottle's log.
class AnonRateThrottle(_ByClientAddress, throttling.AnonRateThrottle, _FixedWindow):
    pass


class UserRateThrottle(_ByClientAddress, throttling.UserRateThrottle, _FixedWindow):
    pass


class ScopedRateThrottle(_ByClientAddress, throttling.ScopedRateThrottle, _FixedWindow):
    pass
