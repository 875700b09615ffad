"""DRF's throttles, keyed on `core.clients.client_address` instead of their own reading of
X-Forwarded-For, so they count the client the lockout and the rate limits count."""

from rest_framework import throttling

from core.clients import client_address


class _ByClientAddress:
    def get_ident(self, request) -> str:
        return client_address(request)


class AnonRateThrottle(_ByClientAddress, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_ByClientAddress, throttling.UserRateThrottle):
    pass


class ScopedRateThrottle(_ByClientAddress, throttling.ScopedRateThrottle):
    pass
