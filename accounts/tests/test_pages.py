"""The portal's pages for signing up, logging in and out, and the holder's profile."""

import re

import pytest
from django.test import Client

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from conftest import signed_in

pytestmark = pytest.mark.django_db


def field_error(response, field: str) -> str:
    """The error shown beside one field (Django's `id_<field>_error` list), or ""."""
    match = re.search(
        rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', response.content.decode(), re.S
    )
    return re.sub(r"<[^>]+>", " ", match.group(1)).strip() if match else ""


def assert_csp_clean(response) -> None:
    html = response.content.decode()
    assert "style=" not in html
    assert "<style" not in html
    assert "<script" not in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


# --- landing ------------------------------------------------------------------------------


def test_landing_invites_visitors_to_sign_up_or_log_in(client):
    response = client.get("/")

    assert response.status_code == 200
    assert b'href="/signup/"' in response.content
    assert b'href="/login/"' in response.content
    assert_csp_clean(response)


def test_landing_sends_customers_to_their_dashboard(browser):
    response = browser.get("/")

    assert response.status_code == 302
    assert response.url == "/dashboard/"


# --- sign up ----------------------------------------------------------------------------------


def test_signup_creates_the_customer_and_logs_them_in(client):
    response = client.post(
        "/signup/",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "Ada@Example.com",
            "password": "analytical engine 1843",
        },
    )

    assert response.status_code == 302
    assert response.url == "/dashboard/"
    ada = User.objects.get(email="ada@example.com")
    assert ada.holder.full_name == "Ada Lovelace"
    assert client.get("/dashboard/").context["user"] == ada


def test_signup_shows_a_weak_password_beside_the_password(client):
    response = client.post(
        "/signup/",
        {"first_name": "Ada", "last_name": "Lovelace", "email": "a@example.com", "password": "123"},
    )

    assert response.status_code == 200
    assert "too short" in field_error(response, "password")
    assert not User.objects.filter(email="a@example.com").exists()


def test_signup_shows_a_taken_email_beside_the_email(client, customer):
    response = client.post(
        "/signup/",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": customer.email.upper(),
            "password": "analytical engine 1843",
        },
    )

    assert "already exists" in field_error(response, "email")
    assert User.objects.count() == 1


def test_signup_refuses_missing_fields_beside_each_field(client):
    response = client.post("/signup/", {})

    for field in ("first_name", "last_name", "email", "password"):
        assert field_error(response, field) == "This field is required."
    assert_csp_clean(response)


# --- log in and out ---------------------------------------------------------------------------


def test_login_with_email_and_password_goes_to_the_dashboard(client, customer):
    response = client.post("/login/", {"email": customer.email, "password": PASSWORD})

    assert response.status_code == 302
    assert response.url == "/dashboard/"


def test_login_follows_a_safe_next_and_ignores_another_host(client, customer):
    inside = client.post("/login/?next=/profile/", {"email": customer.email, "password": PASSWORD})
    client.logout()
    outside = client.post(
        "/login/", {"email": customer.email, "password": PASSWORD, "next": "https://evil.test/"}
    )

    assert inside.url == "/profile/"
    assert outside.url == "/dashboard/"


def test_login_with_a_wrong_password_says_so_and_logs_nobody_in(client, customer):
    response = client.post("/login/", {"email": customer.email, "password": "not it at all"})

    assert response.status_code == 200
    assert b"The email address or the password is not right." in response.content
    assert "_auth_user_id" not in client.session


def test_login_is_locked_out_after_repeated_failures_with_the_429_page(client, customer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post("/login/", {"email": customer.email, "password": "wrong guess"})

    locked = client.post("/login/", {"email": customer.email, "password": "wrong guess"})
    still_locked = client.post("/login/", {"email": customer.email, "password": PASSWORD})

    assert locked.status_code == 429
    assert locked.headers["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    assert "errors/error.html" in [t.name for t in locked.templates]
    assert b"Please wait" in locked.content
    assert still_locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_logout_asks_on_get_and_logs_out_on_post(browser):
    asked = browser.get("/logout/")
    assert asked.status_code == 200
    assert b'<button type="submit">Log out</button>' in asked.content
    assert "_auth_user_id" in browser.session

    response = browser.post("/logout/")

    assert response.status_code == 302
    assert response.url == "/"
    assert "_auth_user_id" not in browser.session


def test_forms_carry_a_csrf_token_and_refuse_a_post_without_one(customer):
    strict = Client(enforce_csrf_checks=True)

    page = strict.get("/login/")
    refused = strict.post("/login/", {"email": customer.email, "password": PASSWORD})

    assert b'name="csrfmiddlewaretoken"' in page.content
    assert refused.status_code == 403
    assert b"This form expired" in refused.content


# --- profile and password -----------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/dashboard/", "/profile/", "/password/change/", "/transfers/new/", "/accounts/new/"]
)
def test_portal_pages_ask_visitors_to_log_in(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response.url == f"/login/?next={path}"


def test_profile_shows_the_holders_details(browser, customer):
    response = browser.get("/profile/")

    assert response.status_code == 200
    assert customer.email.encode() in response.content
    assert response.context["form"].initial["last_name"] == customer.holder.last_name
    assert_csp_clean(response)


def test_profile_saves_changes(browser, customer):
    response = browser.post(
        "/profile/",
        {
            "first_name": "Grace",
            "last_name": "Hopper",
            "phone": "+1 212 555 0100",
            "address": "1 Navy Way, Arlington",
            "date_of_birth": "1906-12-09",
        },
    )

    assert response.status_code == 302
    customer.holder.refresh_from_db()
    assert customer.holder.full_name == "Grace Hopper"
    assert str(customer.holder.date_of_birth) == "1906-12-09"


def test_profile_shows_a_bad_phone_beside_the_phone_and_saves_nothing(browser, customer):
    response = browser.post(
        "/profile/",
        {"first_name": "Grace", "last_name": "Hopper", "phone": "call me", "address": ""},
    )

    assert "Enter a phone number such as" in field_error(response, "phone")
    assert 'aria-invalid="true"' in response.content.decode()
    customer.holder.refresh_from_db()
    assert customer.holder.first_name != "Grace"


def test_password_change_keeps_the_session_and_takes_the_new_password(browser, customer):
    response = browser.post(
        "/password/change/",
        {
            "old_password": PASSWORD,
            "new_password1": "a brand new pass phrase",
            "new_password2": "a brand new pass phrase",
        },
    )

    assert response.status_code == 302
    assert browser.get("/profile/").status_code == 200
    customer.refresh_from_db()
    assert customer.check_password("a brand new pass phrase")


def test_password_change_shows_a_wrong_old_password_beside_it(browser):
    response = browser.post(
        "/password/change/",
        {"old_password": "nope", "new_password1": "x" * 12, "new_password2": "x" * 12},
    )

    assert "incorrectly" in field_error(response, "old_password")


def test_staff_without_a_holder_can_open_their_profile():
    client = signed_in(UserFactory(is_staff=True, holder=None))

    response = client.get("/profile/")

    assert response.status_code == 200
    assert b'href="/admin/"' in response.content
