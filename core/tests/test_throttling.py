"""The API's throttles count in fixed windows, one counter per client per window (one Redis
round trip with Redis), and still refuse past the rate with a 429 and Retry-After."""

import os
import uuid
from unittest.mock import patch

import pytest
import redis
from django.core.cache import cache
from rest_framework.throttling import UserRateThrottle

from core import shared_state
from core.shared_state import count_hit


@pytest.fixture
def on_redis(settings):
    """core.shared_state on the Redis of this machine (database 15); every key a test makes
    there holds a fresh id, so runs side by side never meet."""
    settings.REDIS_URL = os.environ.get("SHARED_STATE_TEST_REDIS", "redis://127.0.0.1:6379/15")
    client, _scripts = shared_state._redis()
    sent = []
    original = redis.Redis.execute_command

    def counted(self, *args, **kwargs):
        sent.append(args[0])
        return original(self, *args, **kwargs)

    count_hit(f"test-warm-{uuid.uuid4().hex}", 5)  # Redis has the scripts from here on
    shared_state.get_many_and_count_hit([], f"test-warm-{uuid.uuid4().hex}", 5)
    with patch.object(redis.Redis, "execute_command", counted):
        yield client, sent


@pytest.mark.django_db
def test_count_hit_counts_in_one_redis_command_and_expires(on_redis):
    client, sent = on_redis
    key = f"test-count-hit-{uuid.uuid4().hex}"

    counts = [count_hit(key, 30) for _ in range(3)]

    assert counts == [1, 2, 3]
    assert sent == ["EVALSHA"] * 3  # one script, one round trip a hit
    assert 0 < client.ttl(shared_state.PREFIX + key) <= 30
    assert client.get(shared_state.PREFIX + key) == "3"


@pytest.mark.django_db
def test_get_many_and_count_hit_reads_and_counts_in_one_redis_command(on_redis):
    client, sent = on_redis
    key, counter = f"test-value-{uuid.uuid4().hex}", f"test-counter-{uuid.uuid4().hex}"
    shared_state.set_many({key: "forty-two"}, 30)
    sent.clear()

    first = shared_state.get_many_and_count_hit([key, "test-never-set"], counter, 30)
    second = shared_state.get_many_and_count_hit([key], counter, 30)

    assert first == ({key: "forty-two"}, 1)
    assert second == ({key: "forty-two"}, 2)
    assert sent == ["EVALSHA", "EVALSHA"]
    assert 0 < client.ttl(shared_state.PREFIX + counter) <= 30


@pytest.mark.django_db
def test_an_authenticated_api_request_costs_one_redis_round_trip(on_redis, customer_api):
    _client, sent = on_redis
    customer_api.get("/api/v1/accounts/")  # the user is cached from here on
    sent.clear()

    response = customer_api.get("/api/v1/accounts/")

    assert response.status_code == 200, response.content
    assert sent == ["EVALSHA"]  # the user, the family's mark and the user rate's count


@pytest.mark.django_db
def test_count_hit_on_the_database_cache_counts_too():
    assert [count_hit("test-count-hit-db", 30) for _ in range(3)] == [1, 2, 3]


@pytest.mark.django_db
@pytest.mark.parametrize("home", ["database cache", "redis"])
def test_the_user_throttle_refuses_past_its_rate_counting_each_request_once(
    home, request, customer, customer_api, monkeypatch
):
    if home == "redis":
        request.getfixturevalue("on_redis")
    monkeypatch.setattr(UserRateThrottle, "rate", "3/min", raising=False)
    for _ in range(3):
        assert customer_api.get("/api/v1/accounts/").status_code == 200

    refused = customer_api.get("/api/v1/accounts/")

    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 61
    from core.throttling import UserRateThrottle as Ours

    counter = Ours.counter_for(str(customer.pk))
    (count,) = shared_state.get_many([counter.key]).values()
    assert int(count) == 4  # four requests, four hits: the authentication's count is the one


@pytest.mark.django_db
def test_the_user_throttle_keeps_a_counter_not_a_log(customer, customer_api):
    from core.throttling import UserRateThrottle as Ours

    customer_api.get("/api/v1/accounts/")
    customer_api.get("/api/v1/accounts/")

    throttle = Ours()
    window = int(throttle.timer() // throttle.duration)
    key = throttle.cache_format % {"scope": "user", "ident": customer.pk}
    assert cache.get(f"{shared_state.PREFIX}{key}:{window}") == 2  # the database cache here
    assert cache.get(key) is None  # DRF's list of request times is never written
