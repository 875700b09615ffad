"""One reading of the client's address, shared by the lockout, the throttles and the limits."""

import pytest
from django.test import RequestFactory

from core.clients import client_address

rf = RequestFactory()


def request(remote="203.0.113.9", forwarded=None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return rf.get("/", **meta)


def test_without_trusted_proxies_a_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    assert client_address(request(forwarded="198.51.100.1")) == "203.0.113.9"


def test_behind_one_proxy_the_rightmost_forwarded_entry_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 1

    # The client wrote "6.6.6.6" itself; the proxy appended the address it saw.
    got = client_address(request(remote="10.0.0.2", forwarded="6.6.6.6, 198.51.100.1"))

    assert got == "198.51.100.1"


def test_behind_two_proxies_the_second_entry_from_the_right(settings):
    settings.TRUSTED_PROXY_COUNT = 2

    got = client_address(request(remote="10.0.0.3", forwarded="6.6.6.6, 198.51.100.1, 10.0.0.2"))

    assert got == "198.51.100.1"


def test_behind_a_proxy_without_the_header_the_peer_is_used(settings):
    settings.TRUSTED_PROXY_COUNT = 1

    assert client_address(request(remote="10.0.0.2")) == "10.0.0.2"


@pytest.mark.parametrize("junk", ["not-an-ip", "", " , ", "999.1.1.1", "1.2.3.4:x:y", "[::1"])
def test_a_forwarded_entry_that_is_not_an_address_falls_back_to_the_peer(settings, junk):
    settings.TRUSTED_PROXY_COUNT = 1

    assert client_address(request(remote="10.0.0.2", forwarded=junk)) == "10.0.0.2"


@pytest.mark.parametrize(
    ("written", "client"),
    [("198.51.100.1:443", "198.51.100.1"), ("[2001:db8:1:2::5]:443", "2001:db8:1:2::")],
)
def test_a_forwarded_entry_with_a_port_is_its_address(settings, written, client):
    settings.TRUSTED_PROXY_COUNT = 1

    assert client_address(request(remote="10.0.0.2", forwarded=written)) == client


def test_ipv6_clients_are_grouped_by_their_64(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    one = client_address(request(remote="2001:db8:1:2::1"))
    same_64 = client_address(request(remote="2001:db8:1:2:ffff:ffff:ffff:ffff"))
    next_64 = client_address(request(remote="2001:db8:1:3::1"))

    assert one == same_64 == "2001:db8:1:2::"
    assert next_64 != one


def test_an_ipv4_mapped_ipv6_address_is_the_ipv4_client(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    assert client_address(request(remote="::ffff:198.51.100.7")) == "198.51.100.7"


def test_ipv6_behind_a_proxy_is_grouped_too(settings):
    settings.TRUSTED_PROXY_COUNT = 1

    got = client_address(request(remote="10.0.0.2", forwarded="2001:db8:aa:bb:1:2:3:4"))

    assert got == "2001:db8:aa:bb::"


def test_no_address_at_all_is_one_placeholder(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    assert client_address(request(remote="")) == "0.0.0.0"


def test_the_lockout_and_the_throttles_use_it(settings):
    from rest_framework.request import Request

    from core.throttling import AnonRateThrottle, ScopedRateThrottle

    settings.TRUSTED_PROXY_COUNT = 1
    req = request(remote="10.0.0.2", forwarded="2001:db8:aa:bb::9")

    assert settings.AXES_CLIENT_IP_CALLABLE == "core.clients.client_address"
    assert AnonRateThrottle().get_ident(Request(req)) == "2001:db8:aa:bb::"
    assert ScopedRateThrottle().get_ident(Request(req)) == "2001:db8:aa:bb::"
