import base64
import json
from datetime import timedelta

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import Holder, User
from accounts.tests.factories import PASSWORD, UserFactory
from conftest import bearer

pytestmark = pytest.mark.django_db

SIGNUP = "/api/v1/auth/signup/"
TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/me/"


def signup_body(**overrides):
    return {
        "email": "ada@example.com",
        "password": "analytical engine 1843",
        "first_name": "Ada",
        "last_name": "Lovelace",
        **overrides,
    }


def error_code(response):
    return response.json()["error"]["code"]


def tokens_for(api, user):
    response = api.post(TOKEN, {"email": user.email, "password": PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()


# --- signup -------------------------------------------------------------------------------


def test_signup_creates_user_and_holder(api):
    response = api.post(SIGNUP, signup_body(email="Ada@Example.COM"))

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "email", "first_name", "last_name"}
    assert body["email"] == "ada@example.com"
    user = User.objects.get(id=body["id"])
    assert user.holder.first_name == "Ada"
    assert "password" not in body


@pytest.mark.parametrize("email", ["ada@example.com", "ADA@EXAMPLE.COM", "Ada@example.com"])
def test_signup_refuses_duplicate_email_in_any_case(api, email):
    api.post(SIGNUP, signup_body())

    response = api.post(SIGNUP, signup_body(email=email))

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert "email" in response.json()["error"]["details"]
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    "password", ["short", "password123", "12345678901234", "lovelace-ada", "ada@example.com"]
)
def test_signup_refuses_weak_password_and_writes_nothing(api, password):
    response = api.post(SIGNUP, signup_body(password=password))

    assert response.status_code == 400
    assert "password" in response.json()["error"]["details"]
    assert not User.objects.exists()
    assert not Holder.objects.exists()


@pytest.mark.parametrize("missing", ["email", "password", "first_name", "last_name"])
def test_signup_refuses_missing_field(api, missing):
    body = signup_body()
    del body[missing]

    response = api.post(SIGNUP, body)

    assert response.status_code == 400
    assert missing in response.json()["error"]["details"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "not-an-email"), ("first_name", "x" * 101), ("is_staff", True)],
)
def test_signup_refuses_bad_or_unknown_field(api, field, value):
    response = api.post(SIGNUP, signup_body(**{field: value}))

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert not User.objects.exists()


# --- token ----------------------------------------------------------------------------------


def test_token_returns_pair_for_email_in_any_case(api, customer):
    response = api.post(TOKEN, {"email": customer.email.upper(), "password": PASSWORD})

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


def test_token_refuses_wrong_password(api, customer):
    response = api.post(TOKEN, {"email": customer.email, "password": "wrong password!"})

    assert response.status_code == 401
    assert error_code(response) == "authentication_failed"


def test_token_refuses_unknown_email(api):
    response = api.post(TOKEN, {"email": "nobody@example.com", "password": PASSWORD})

    assert response.status_code == 401
    assert error_code(response) == "authentication_failed"


def test_token_refuses_inactive_user(api):
    user = UserFactory(is_active=False)

    response = api.post(TOKEN, {"email": user.email, "password": PASSWORD})

    assert response.status_code == 401


def test_token_refuses_missing_password(api, customer):
    response = api.post(TOKEN, {"email": customer.email})

    assert response.status_code == 400
    assert "password" in response.json()["error"]["details"]


def test_token_locks_out_after_repeated_failures_with_429(api, customer, settings):
    wrong = {"email": customer.email, "password": "nope nope"}
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert api.post(TOKEN, wrong).status_code == 401
    assert api.post(TOKEN, wrong).status_code == 429  # the failure that reaches the limit

    # Locked: even the right password is refused, with 429 and a Retry-After.
    response = api.post(TOKEN, {"email": customer.email, "password": PASSWORD})

    assert response.status_code == 429
    assert error_code(response) == "throttled"
    assert int(response["Retry-After"]) > 0


def test_lockout_is_per_email(api, customer, settings):
    other = UserFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api.post(TOKEN, {"email": customer.email, "password": "nope nope"})

    response = api.post(TOKEN, {"email": other.email, "password": PASSWORD})

    assert response.status_code == 200


# --- using an access token --------------------------------------------------------------------


def test_missing_token_is_not_authenticated(api):
    response = api.get(ME)

    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"


def test_expired_token_is_refused(customer):
    token = AccessToken.for_user(customer)
    token.set_exp(lifetime=-timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = client.get(ME)

    assert response.status_code == 401
    assert error_code(response) == "authentication_failed"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_tampered_token_is_refused(customer):
    other = UserFactory()
    header, _payload, signature = str(AccessToken.for_user(customer)).split(".")
    forged_payload = json.loads(base64.urlsafe_b64decode(_payload + "=="))
    forged_payload["user_id"] = str(other.id)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {header}.{_b64(forged_payload)}.{signature}")

    response = client.get(ME)

    assert response.status_code == 401
    assert error_code(response) == "authentication_failed"


def test_alg_none_token_is_refused(customer):
    payload = json.loads(
        base64.urlsafe_b64decode(str(AccessToken.for_user(customer)).split(".")[1] + "==")
    )
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(payload)}."
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {unsigned}")

    response = client.get(ME)

    assert response.status_code == 401


def test_refresh_token_is_not_an_access_token(api, customer):
    refresh = tokens_for(api, customer)["refresh"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh}")

    assert client.get(ME).status_code == 401


def test_token_of_deactivated_user_is_refused(customer):
    client = bearer(customer)
    customer.is_active = False
    customer.save()

    assert client.get(ME).status_code == 401


# --- refresh and logout -----------------------------------------------------------------------


def test_refresh_rotates_and_old_refresh_stops_working(api, customer):
    first = tokens_for(api, customer)

    rotated = api.post(REFRESH, {"refresh": first["refresh"]})
    reused = api.post(REFRESH, {"refresh": first["refresh"]})

    assert rotated.status_code == 200
    assert set(rotated.json()) == {"access", "refresh"}
    assert rotated.json()["refresh"] != first["refresh"]
    assert reused.status_code == 401
    assert error_code(reused) == "authentication_failed"
    # The replay revoked the whole login (API.md "Sessions end"): the rotated token too.
    assert api.post(REFRESH, {"refresh": rotated.json()["refresh"]}).status_code == 401


def test_refresh_refuses_garbage_and_missing(api):
    assert api.post(REFRESH, {"refresh": "not.a.token"}).status_code == 401
    assert api.post(REFRESH, {}).status_code == 400


def test_refresh_refuses_an_access_token(api, customer):
    access = tokens_for(api, customer)["access"]

    assert api.post(REFRESH, {"refresh": access}).status_code == 401


def test_logout_revokes_the_refresh_token(api, customer):
    pair = tokens_for(api, customer)

    logout = api.post(LOGOUT, {"refresh": pair["refresh"]})
    refresh = api.post(REFRESH, {"refresh": pair["refresh"]})

    assert logout.status_code == 204
    assert refresh.status_code == 401
    assert error_code(refresh) == "authentication_failed"


def test_logout_refuses_garbage_token(api):
    response = api.post(LOGOUT, {"refresh": "garbage"})

    assert response.status_code == 401
    assert error_code(response) == "authentication_failed"


def test_logout_twice_is_refused_the_second_time(api, customer):
    pair = tokens_for(api, customer)
    api.post(LOGOUT, {"refresh": pair["refresh"]})

    assert api.post(LOGOUT, {"refresh": pair["refresh"]}).status_code == 401


# --- /me/ -------------------------------------------------------------------------------------


def test_me_shows_own_profile(customer, customer_api):
    response = customer_api.get(ME)

    assert response.status_code == 200
    body = response.json()
    assert body["email"] == customer.email
    assert body["id"] == str(customer.id)
    assert body["first_name"] == customer.holder.first_name
    assert set(body) == {
        "id",
        "email",
        "first_name",
        "last_name",
        "phone",
        "address",
        "date_of_birth",
    }


def test_me_patch_changes_profile(customer, customer_api):
    response = customer_api.patch(
        ME, {"phone": "+44 20 7946 0000", "date_of_birth": "1990-04-01", "last_name": "Byron"}
    )

    assert response.status_code == 200
    customer.holder.refresh_from_db()
    assert customer.holder.phone == "+44 20 7946 0000"
    assert customer.holder.last_name == "Byron"
    assert str(customer.holder.date_of_birth) == "1990-04-01"
    assert response.json()["last_name"] == "Byron"


def test_me_refuses_email_change(customer, customer_api):
    original = customer.email

    response = customer_api.patch(ME, {"email": "new@example.com"})

    assert response.status_code == 400
    assert "email" in response.json()["error"]["details"]
    customer.refresh_from_db()
    assert customer.email == original


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("date_of_birth", "2999-01-01"),
        ("date_of_birth", "yesterday"),
        ("phone", "call me maybe"),
        ("first_name", ""),
        ("address", "x" * 301),
    ],
)
def test_me_refuses_invalid_field_and_keeps_profile(customer, customer_api, field, value):
    before = Holder.objects.get(user=customer).__dict__.copy()

    response = customer_api.patch(ME, {field: value})

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    after = Holder.objects.get(user=customer).__dict__
    assert {k: after[k] for k in before if not k.startswith("_")} == {
        k: v for k, v in before.items() if not k.startswith("_")
    }


@pytest.mark.parametrize("method", ["put", "post", "delete"])
def test_me_refuses_unlisted_verbs(customer_api, method):
    response = getattr(customer_api, method)(ME, {})

    assert response.status_code == 405
    assert error_code(response) == "method_not_allowed"


def test_me_for_staff_without_holder_starts_blank_and_can_be_filled():
    staff = User.objects.create_superuser("boss@example.com", "a strong pass phrase")
    client = bearer(staff)

    assert client.get(ME).json()["first_name"] == ""
    assert client.patch(ME, {"first_name": "Grace"}).json()["first_name"] == "Grace"
