"""core/authentication.py: the JWT user cache, on (it is off without Redis), and the
cache of verified tokens."""

import json
import os
from datetime import timedelta
from unittest.mock import patch

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework_simplejwt.utils import aware_utcnow

from accounts.models import User
from accounts.tests.factories import UserFactory
from conftest import bearer

ME = "/api/v1/me/"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=["database cache", "redis"])
def _cache_on(request, settings):
    """On, in both homes of the shared state (core/shared_state.py): Django's cache (the
    database, without Redis) and Redis (this machine's, database 15; every key holds a fresh
    user id)."""
    settings.JWT_USER_CACHE_SECONDS = 60
    if request.param == "redis":
        settings.REDIS_URL = os.environ.get("SHARED_STATE_TEST_REDIS", "redis://127.0.0.1:6379/15")


def user_reads(queries) -> list[str]:
    return [q["sql"] for q in queries if 'FROM "accounts_user"' in q["sql"]]


def test_jwt_user_cache_serves_the_second_request_without_reading_the_user(customer):
    client = bearer(customer)
    client.get(ME)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(ME)

    assert response.status_code == 200
    assert response.json()["email"] == customer.email
    assert user_reads(queries.captured_queries) == []


def test_jwt_user_cache_refuses_a_user_deactivated_after_caching(customer):
    client = bearer(customer)
    assert client.get(ME).status_code == 200

    customer.is_active = False
    customer.save()

    assert client.get(ME).status_code == 401


def test_jwt_user_cache_forgets_a_deleted_user(db):
    user = UserFactory()
    client = bearer(user)
    assert client.get(ME).status_code == 200

    user.delete()

    assert client.get(ME).status_code == 401


def test_jwt_user_cache_sees_a_new_staff_flag_at_once(customer):
    client = bearer(customer)
    client.get(ME)

    customer.is_staff = True
    customer.save()

    assert client.get("/api/v1/accounts/").wsgi_request.user.is_staff


def test_jwt_user_cache_keeps_no_password_and_saving_the_copy_keeps_the_password(customer):
    client = bearer(customer)
    client.get(ME)
    cached = client.get(ME).wsgi_request.user

    assert "password" in cached.get_deferred_fields()
    cached.save()
    assert User.objects.get(pk=customer.pk).password == customer.password


def test_jwt_user_cache_keeps_exact_values_and_reads_past_a_copy_of_other_fields(customer):
    """The copy is JSON: every field comes back as it was (a datetime to the microsecond).
    A copy written before a deploy that changed the user's fields is read past, not trusted."""
    from core import shared_state
    from core.authentication import _cache_key

    client = bearer(customer)
    client.get(ME)
    cached = client.get(ME).wsgi_request.user
    assert (cached.date_joined, cached.pk, cached.is_active) == (
        customer.date_joined,
        customer.pk,
        True,
    )

    shared_state.set_many({_cache_key(customer.pk): json.dumps({"id": str(customer.pk)})}, 60)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(ME)

    assert response.status_code == 200, response.content
    assert len(user_reads(queries.captured_queries)) == 1


def test_jwt_user_cache_off_reads_the_user_every_time(customer, settings):
    settings.JWT_USER_CACHE_SECONDS = 0
    client = bearer(customer)
    client.get(ME)

    with CaptureQueriesContext(connection) as queries:
        client.get(ME)

    assert len(user_reads(queries.captured_queries)) == 1


def test_verified_token_cache_refuses_a_tampered_copy_of_a_cached_token(customer):
    client = bearer(customer)
    assert client.get(ME).status_code == 200
    header = client._credentials["HTTP_AUTHORIZATION"]
    tampered = header[:-2] + ("AA" if not header.endswith("AA") else "BB")

    client.credentials(HTTP_AUTHORIZATION=tampered)

    assert client.get(ME).status_code == 401


def test_verified_token_cache_refuses_a_cached_token_once_it_expires(customer):
    client = bearer(customer)
    assert client.get(ME).status_code == 200
    later = aware_utcnow() + timedelta(days=1)

    with (
        patch("core.authentication.aware_utcnow", return_value=later),
        patch("rest_framework_simplejwt.tokens.aware_utcnow", return_value=later),
    ):
        response = client.get(ME)

    assert response.status_code == 401
