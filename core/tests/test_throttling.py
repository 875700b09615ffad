"""The API's throttles count in fixed windows, one counter per client per window (one Redis
round trip with Redis), and still refuse past the rate with a 429 and Retry-After."""

import os
import uuid

import pytest
from django.core.cache import cache
from rest_framework.throttling import UserRateThrottle

from core.cache import RedisCache, count_hit


def test_count_hit_counts_in_one_redis_round_trip_and_expires():
    redis = RedisCache(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), {})
    key = f"test-count-hit-{uuid.uuid4().hex}"
    client = redis._cache.get_client(write=True)
    sent = []
    original = type(client).execute_command

    def counted(self, *args, **kwargs):
        sent.append(args[0])
        return original(self, *args, **kwargs)

    type(client).execute_command = counted
    try:
        counts = [redis.count_hit(key, 30) for _ in range(3)]
    finally:
        type(client).execute_command = original

    assert counts == [1, 2, 3]
    assert sent == []  # every hit went out as one MULTI pipeline, not command by command
    assert 0 < client.ttl(redis.make_and_validate_key(key)) <= 30
    assert redis.get(key) == 3
    redis.delete(key)


@pytest.mark.django_db
def test_count_hit_on_the_database_cache_counts_too():
    assert [count_hit("test-count-hit-db", 30) for _ in range(3)] == [1, 2, 3]


@pytest.mark.django_db
def test_the_user_throttle_refuses_past_its_rate_with_the_rest_of_the_window(
    customer_api, monkeypatch
):
    monkeypatch.setattr(UserRateThrottle, "rate", "3/min", raising=False)
    for _ in range(3):
        assert customer_api.get("/api/v1/accounts/").status_code == 200

    refused = customer_api.get("/api/v1/accounts/")

    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 61


@pytest.mark.django_db
def test_the_user_throttle_keeps_a_counter_not_a_log(customer, customer_api):
    from core.throttling import UserRateThrottle as Ours

    customer_api.get("/api/v1/accounts/")
    customer_api.get("/api/v1/accounts/")

    throttle = Ours()
    window = int(throttle.timer() // throttle.duration)
    key = throttle.cache_format % {"scope": "user", "ident": customer.pk}
    assert cache.get(f"{key}:{window}") == 2
    assert cache.get(key) is None  # DRF's list of request times is never written
