import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from accounts.tokens import SessionRefreshToken

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
    """An API client with the access token a login would give `user` (its family, session
    version and, for a customer, holder claims: accounts/tokens.py)."""
    client = APIClient()
    token = SessionRefreshToken.for_user(user).access_token
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
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


def staff_member(*roles: str):
    """A staff login holding the given roles (the groups of ledger/migrations/0004_roles.py)."""
    from django.contrib.auth.models import Group

    user = UserFactory(is_staff=True)
    user.groups.set(Group.objects.filter(name__in=roles))
    assert user.groups.count() == len(roles), f"unknown role in {roles}"
    return user


@pytest.fixture
def staff(db):
    """Staff who may do every staff endpoint of the API: a teller and back office."""
    return staff_member("teller", "back office")


@pytest.fixture
def teller(db):
    return staff_member("teller")


@pytest.fixture
def back_office(db):
    return staff_member("back office")


@pytest.fixture
def approver(db):
    return staff_member("approver")


@pytest.fixture
def auditor(db):
    return staff_member("auditor")


@pytest.fixture
def staff_api(staff):
    return bearer(staff)


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    return f"database backend: {db['ENGINE'].rsplit('.', 1)[-1]} ({db.get('HOST') or db['NAME']})"
