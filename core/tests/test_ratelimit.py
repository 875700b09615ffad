"""core.ratelimit: fixed windows counted in Django's cache."""

import pytest

from core import ratelimit
from core.ratelimit import Rate, RateLimited, parse_rate

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "rate"),
    [("30/min", Rate(30, 60)), ("10/15min", Rate(10, 900)), ("5/3600", Rate(5, 3600))],
)
def test_parse_rate(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["x", "5/", "5/yr", "/min", "-1/min"])
def test_parse_rate_refuses_what_it_cannot_read(text):
    with pytest.raises(ValueError):
        parse_rate(text)


@pytest.fixture
def clock(monkeypatch, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "probe": "2/min"}
    now = [1_800_000_000.0]  # the start of a minute
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    return now


def test_hit_refuses_past_the_limit_with_the_rest_of_the_window(clock):
    ratelimit.hit("probe", "k")
    ratelimit.hit("probe", "k")
    clock[0] += 20

    with pytest.raises(RateLimited) as refused:
        ratelimit.hit("probe", "k")

    assert refused.value.headers == {"Retry-After": "41"}
    assert refused.value.http_status == 429


def test_the_next_window_starts_afresh(clock):
    for _ in range(2):
        ratelimit.hit("probe", "k")
    clock[0] += 60

    assert ratelimit.hit("probe", "k") == 1


def test_keys_and_scopes_count_apart(clock):
    for _ in range(2):
        ratelimit.hit("probe", "k")

    assert ratelimit.hit("probe", "other") == 1


def test_check_counts_nothing_and_refuses_once_used_up(clock):
    ratelimit.check("probe", "k")
    ratelimit.check("probe", "k")
    ratelimit.check("probe", "k")
    ratelimit.hit("probe", "k", refuse=False)
    ratelimit.hit("probe", "k", refuse=False)

    with pytest.raises(RateLimited):
        ratelimit.check("probe", "k")


def test_the_key_is_not_stored_in_clear(clock):
    from django.core.cache import cache

    ratelimit.hit("probe", "alice@example.com")

    assert cache.get("ratelimit:probe:alice@example.com:30000000") is None
