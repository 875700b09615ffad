"""The portal's doors are rate-limited per client address and per email, in the shared cache,
and answer the 429 page with Retry-After; the API's sign-in shares the per-email count."""

from types import SimpleNamespace

import pytest
from django.test import Client

from accounts.tests.factories import PASSWORD, UserFactory
from conftest import signed_in
from core import ratelimit

pytestmark = pytest.mark.django_db

WRONG = "not the password at all"


@pytest.fixture
def limits(settings, monkeypatch):
    def set_limit(scope: str, rate: str) -> None:
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, scope: rate}

    settings.AXES_FAILURE_LIMIT = 1000  # these tests are about the rate limits, not axes
    # The limits count in fixed windows of the clock: a test that ran across a window's end
    # (11:30:00 in one CI run) counted its attempts in two windows and was not refused. The
    # limiter's clock stands at the start of an hour, which starts every window these use.
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_000.0))
    return set_limit


def from_address(address: str, **extra) -> Client:
    return Client(REMOTE_ADDR=address, **extra)


def assert_429_page(response, window: int = 15 * 60) -> None:
    assert response.status_code == 429, response.status_code
    assert response["Content-Type"].startswith("text/html")
    assert 1 <= int(response["Retry-After"]) <= window + 1  # the rest of the window
    assert b"Too many attempts" in response.content


def login(client: Client, email: str, password: str):
    return client.post("/login/", {"email": email, "password": password})


def test_one_address_trying_one_password_against_many_emails_is_stopped(limits):
    limits("login", "3/15min")
    attacker = from_address("198.51.100.1")

    answers = [login(attacker, f"victim{n}@example.com", WRONG) for n in range(4)]

    assert [r.status_code for r in answers[:3]] == [200, 200, 200]
    assert_429_page(answers[3])


def test_the_address_limit_spares_other_addresses(limits, customer):
    limits("login", "2/15min")
    for _ in range(3):
        login(from_address("198.51.100.1"), customer.email, WRONG)

    response = login(from_address("198.51.100.2"), customer.email, PASSWORD)

    assert response.status_code == 302


def test_many_addresses_against_one_email_are_stopped_even_with_the_right_password(
    limits, customer
):
    limits("login_email", "3/15min")
    for n in range(3):
        assert login(from_address(f"198.51.100.{n}"), customer.email, WRONG).status_code == 200

    response = login(from_address("203.0.113.50"), customer.email.upper(), PASSWORD)

    assert_429_page(response)


def test_the_email_limit_counts_failures_only_and_spares_other_emails(limits, customer):
    limits("login_email", "2/15min")
    other = UserFactory()
    for _ in range(3):
        assert login(from_address("198.51.100.1"), customer.email, PASSWORD).status_code == 302

    login(from_address("198.51.100.1"), customer.email, WRONG)
    login(from_address("198.51.100.2"), customer.email, WRONG)

    assert login(from_address("198.51.100.3"), other.email, PASSWORD).status_code == 302
    assert_429_page(login(from_address("198.51.100.3"), customer.email, PASSWORD))


def test_behind_a_trusted_proxy_clients_are_told_apart(limits, settings, customer):
    settings.TRUSTED_PROXY_COUNT = 1
    limits("login", "2/15min")
    proxy = "10.0.0.2"
    for _ in range(3):
        login(from_address(proxy, HTTP_X_FORWARDED_FOR="198.51.100.1"), "x@example.com", WRONG)

    other_client = from_address(proxy, HTTP_X_FORWARDED_FOR="198.51.100.2")

    assert login(other_client, customer.email, PASSWORD).status_code == 302


def test_the_axes_lockout_counts_the_client_behind_the_proxy(settings, customer):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.AXES_FAILURE_LIMIT = 2
    proxy = "10.0.0.2"
    mallory = from_address(proxy, HTTP_X_FORWARDED_FOR="198.51.100.66")
    for _ in range(3):
        login(mallory, customer.email, WRONG)

    owner = from_address(proxy, HTTP_X_FORWARDED_FOR="203.0.113.7")

    assert login(mallory, customer.email, PASSWORD).status_code == 429
    assert login(owner, customer.email, PASSWORD).status_code == 302


def test_an_ipv6_client_cannot_escape_the_limit_by_hopping_its_64(limits):
    limits("login", "2/15min")
    answers = [
        login(from_address(f"2001:db8:1:2::{n}"), f"v{n}@example.com", WRONG) for n in range(3)
    ]

    assert_429_page(answers[2])


def signup(client: Client, email: str):
    data = {"first_name": "Ann", "last_name": "Lee", "email": email, "password": "x"}
    return client.post("/signup/", data)


def test_signup_is_limited_per_address(limits):
    limits("signup", "2/hour")
    bot = from_address("198.51.100.1")

    answers = [signup(bot, f"new{n}@example.com") for n in range(3)]

    assert [r.status_code for r in answers[:2]] == [200, 200]  # weak password: the form again
    assert_429_page(answers[2], window=3600)
    assert signup(from_address("198.51.100.2"), "new9@example.com").status_code == 200


def test_signup_is_limited_per_email(limits):
    limits("signup_email", "2/hour")
    answers = [signup(from_address(f"198.51.100.{n}"), "Target@Example.com ") for n in range(3)]

    assert_429_page(answers[2], window=3600)


def password_change(client: Client, old: str):
    new = "a brand new passphrase 42"
    return client.post(
        "/password/change/", {"old_password": old, "new_password1": new, "new_password2": new}
    )


def signed_in_from(user, address="198.51.100.1") -> Client:
    return signed_in(user, from_address(address))


def test_wrong_old_passwords_on_the_change_form_are_counted(limits, customer):
    limits("password_change_email", "2/15min")
    browser = signed_in_from(customer)
    assert password_change(browser, WRONG).status_code == 200
    assert password_change(signed_in_from(customer, "198.51.100.2"), WRONG).status_code == 200

    response = password_change(browser, PASSWORD)

    assert_429_page(response)
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD)


def test_a_right_old_password_is_not_counted_as_a_failure(limits, customer):
    limits("password_change_email", "1/15min")

    assert password_change(signed_in_from(customer), PASSWORD).status_code == 302


def test_password_change_is_limited_per_address(limits):
    limits("password_change", "2/15min")
    answers = [password_change(signed_in_from(UserFactory()), WRONG) for _ in range(3)]

    assert_429_page(answers[2])


def test_the_api_sign_in_shares_the_per_email_count_with_the_portal(limits, api, customer):
    limits("login_email", "2/15min")
    login(from_address("198.51.100.1"), customer.email, WRONG)
    api.post("/api/v1/auth/token/", {"email": customer.email, "password": WRONG})

    response = api.post("/api/v1/auth/token/", {"email": customer.email, "password": PASSWORD})

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert int(response["Retry-After"]) >= 1
    assert_429_page(login(from_address("198.51.100.9"), customer.email, PASSWORD))


def test_the_api_sign_in_with_a_body_that_is_not_an_object_is_still_a_400(api):
    response = api.post("/api/v1/auth/token/", [1, 2], format="json")

    assert response.status_code == 400
