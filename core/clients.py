"""Who is calling: the one answer the lockout, the throttles, the rate limits and the logs share.

Behind `TRUSTED_PROXY_COUNT` proxies (the TLS terminator, a load balancer), each appends the
address it received from to `X-Forwarded-For`, so the client is the n-th entry from the right
(the last proxy is REMOTE_ADDR itself); everything left of it is whatever the client wrote and
is never trusted. With 0 (the default: no proxy) the header is ignored.

An IPv6 client controls a whole /64 (one is handed to every home or phone), so its address is
the /64's network address: `2001:db8:1:2::`. Still a valid IP address, so it fits axes' column.
"""

from ipaddress import IPv6Address, IPv6Network, ip_address

from django.conf import settings

UNKNOWN = "0.0.0.0"  # noqa: S104 - a key for a request without an address, never bound # nosec B104


def _parse(raw: str | None) -> str | None:
    text = (raw or "").strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443", as some proxies write
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "198.51.100.1:443"
        text = text.partition(":")[0]
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(IPv6Network((address, 64), strict=False).network_address)
    return str(address)


def client_address(request) -> str:
    """The calling client's address (IPv6 as its /64), as far as the trusted proxies tell."""
    meta = request.META
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = [a for a in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if forwarded:
            # Fewer entries than proxies: a request that skipped some of them; its leftmost
            # entry is the best the chain can say (DRF's NUM_PROXIES reads it the same way).
            parsed = _parse(forwarded[-min(count, len(forwarded))])
            if parsed:
                return parsed
    return _parse(meta.get("REMOTE_ADDR")) or UNKNOWN
