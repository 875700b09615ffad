import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import UserFactory

PASSWORD = "correct horse battery staple"
# force_login needs one backend named when several are configured (axes is the other).
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture(autouse=True)
def _fast_and_isolated(request, settings):
    # Hashing strength is Django's concern, not these tests'; throttle counters must not leak.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    uses_db = request.node.get_closest_marker("django_db") or {
        "db",
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    if uses_db:
        cache.clear()


@pytest.fixture
def api():
    return APIClient()


def bearer(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def signed_in(user, client: Client | None = None) -> Client:
    """A portal client with a session for `user`, as `bearer` is an API client with a token."""
    client = client or Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


@pytest.fixture
def browser(customer) -> Client:
    return signed_in(customer)


@pytest.fixture
def customer(db):
    return UserFactory()


@pytest.fixture
def customer_api(customer):
    return bearer(customer)


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def staff_api(staff):
    return bearer(staff)


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    return f"database backend: {db['ENGINE'].rsplit('.', 1)[-1]} ({db.get('HOST') or db['NAME']})"
