"""Sessions that end (issue 9 item 4, API.md "Sessions end"): the API's token families, their
absolute lifetime, reuse, revocation by password change, deactivation and logout, and the
portal's idle and absolute timeouts. Time is moved with `unittest.mock.patch` on simplejwt's
clock (tokens) and on core.middleware._epoch (portal sessions)."""

from datetime import timedelta
from unittest.mock import patch

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from rest_framework_simplejwt.utils import aware_utcnow

from accounts.models import User
from accounts.services import revoke_all_sessions, revoke_family
from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tokens import SessionRefreshToken
from audit.models import AuditRecord
from conftest import signed_in

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/me/"
NEW_PASSWORD = "a brand new pass phrase"


def login(user, password=PASSWORD) -> dict:
    response = APIClient().post(TOKEN, {"email": user.email, "password": password})
    assert response.status_code == 200, response.content
    return response.json()


def refresh(token: str):
    return APIClient().post(REFRESH, {"refresh": token})


def me(access: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get(ME)


def assert_refused(response) -> None:
    assert response.status_code == 401, response.content
    assert response.json()["error"]["code"] == "authentication_failed"


def claims(token: str) -> dict:
    return SessionRefreshToken(token, verify=False).payload


# --- families and their absolute lifetime ---------------------------------------------------


def test_login_starts_a_family_that_rotation_and_access_tokens_carry(customer):
    pair = login(customer)
    first = claims(pair["refresh"])
    rotated = refresh(pair["refresh"]).json()

    assert {"fam", "auth_time", "sv"} <= set(first)
    assert first["auth_time"] == first["iat"]
    second = claims(rotated["refresh"])
    assert (second["fam"], second["auth_time"]) == (first["fam"], first["auth_time"])
    assert second["jti"] != first["jti"]
    access = AccessToken(rotated["access"]).payload
    assert (access["fam"], access["auth_time"]) == (first["fam"], first["auth_time"])
    assert access["exp"] - access["iat"] <= 15 * 60  # access tokens live minutes
    assert first["hid"] == second["hid"] == access["hid"] == customer.holder.pk


def test_a_login_without_a_holder_carries_no_holder_claim(db):
    staff = UserFactory(holder=None, is_staff=True)

    pair = login(staff)

    assert "hid" not in claims(pair["refresh"])
    assert "hid" not in AccessToken(pair["access"]).payload
    assert me(pair["access"]).status_code == 200


def test_rotation_never_extends_a_family_past_its_absolute_lifetime(customer, settings):
    settings.JWT_SESSION_MAX_HOURS = 12
    eleven_hours_ago = aware_utcnow() - timedelta(hours=11)
    with patch("rest_framework_simplejwt.tokens.aware_utcnow", return_value=eleven_hours_ago):
        pair = login(customer)

    rotated = refresh(pair["refresh"])

    assert rotated.status_code == 200
    new = claims(rotated.json()["refresh"])
    login_time = claims(pair["refresh"])["auth_time"]
    assert new["auth_time"] == login_time
    assert new["exp"] == login_time + 12 * 3600  # not now + REFRESH_TOKEN_LIFETIME (a day)
    assert new["exp"] < int(aware_utcnow().timestamp()) + 3600 + 5


def test_refresh_past_the_family_lifetime_is_refused(customer, settings):
    settings.JWT_SESSION_MAX_HOURS = 24
    thirteen_hours_ago = aware_utcnow() - timedelta(hours=13)
    with patch("rest_framework_simplejwt.tokens.aware_utcnow", return_value=thirteen_hours_ago):
        pair = login(customer)  # its refresh token itself is still valid for 11 hours
    settings.JWT_SESSION_MAX_HOURS = 12

    assert_refused(refresh(pair["refresh"]))


def test_a_refresh_token_without_a_family_is_refused(customer):
    assert_refused(refresh(str(RefreshToken.for_user(customer))))


# --- reuse of a rotated refresh token ---------------------------------------------------------


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(customer):
    a = login(customer)
    other_login = login(customer)
    b = refresh(a["refresh"]).json()

    assert_refused(refresh(a["refresh"]))  # the replay

    assert_refused(me(b["access"]))  # the family's access tokens die at once
    assert_refused(me(a["access"]))
    assert_refused(refresh(b["refresh"]))  # and so does the legitimate successor
    assert me(other_login["access"]).status_code == 200  # another login is untouched
    assert refresh(other_login["refresh"]).status_code == 200


def test_revoking_a_family_is_set_based(customer):
    pair = login(customer)
    family = claims(pair["refresh"])["fam"]
    token = pair["refresh"]
    for _ in range(3):
        token = refresh(token).json()["refresh"]

    with CaptureQueriesContext(connection) as few:
        revoke_family(family=family)
    for _ in range(5):  # more members: the same statements
        SessionRefreshToken(token, verify=False).rotated(customer)
    with CaptureQueriesContext(connection) as many:
        revoke_family(family=family)

    assert len(many) == len(few)
    live = OutstandingToken.objects.filter(
        session_family__family=family, blacklistedtoken__isnull=True
    )
    assert not live.exists()


# --- password change and deactivation revoke every session of the user --------------------------


def test_portal_password_change_ends_the_api_sessions(customer):
    first, second = login(customer), login(customer)
    browser = signed_in(customer)

    response = browser.post(
        "/password/change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    for pair in (first, second):
        assert_refused(me(pair["access"]))
        assert_refused(refresh(pair["refresh"]))
    fresh = login(customer, NEW_PASSWORD)
    assert me(fresh["access"]).status_code == 200


def test_portal_password_change_ends_other_portal_sessions_and_keeps_this_one(customer):
    here, elsewhere = signed_in(customer), signed_in(customer)
    assert elsewhere.get("/profile/").status_code == 200

    here.post(
        "/password/change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert here.get("/profile/").status_code == 200
    assert elsewhere.get("/profile/").status_code == 302


def test_admin_password_change_ends_the_api_sessions(admin_client, customer):
    pair = login(customer)

    response = admin_client.post(
        f"/admin/accounts/user/{customer.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )

    assert response.status_code == 302, response.content
    assert_refused(me(pair["access"]))
    assert_refused(refresh(pair["refresh"]))


def test_set_password_and_save_anywhere_ends_the_api_sessions(customer):
    pair = login(customer)

    customer.set_password(NEW_PASSWORD)
    customer.save()

    assert_refused(me(pair["access"]))
    assert_refused(refresh(pair["refresh"]))


def test_deactivation_by_save_ends_the_sessions_even_if_reactivated(customer):
    pair = login(customer)

    customer.is_active = False
    customer.save()
    customer.is_active = True
    customer.save()

    assert_refused(me(pair["access"]))
    assert_refused(refresh(pair["refresh"]))


def test_admin_deactivate_action_asks_why_ends_the_sessions_and_records_it(
    admin_client, admin_user, customer
):
    pair = login(customer)
    selected = {"action": "deactivate", "_selected_action": [str(customer.pk)]}

    ask = admin_client.post("/admin/accounts/user/", selected)
    blank = admin_client.post("/admin/accounts/user/", {**selected, "apply": "1", "reason": " "})
    response = admin_client.post(
        "/admin/accounts/user/", {**selected, "apply": "1", "reason": "Customer asked"}
    )

    assert ask.status_code == blank.status_code == 200
    assert b'name="reason"' in ask.content
    assert response.status_code == 302
    customer.refresh_from_db()
    assert not customer.is_active
    record = AuditRecord.objects.get(action="deactivate")
    assert (record.actor, record.target_id, record.reason) == (
        admin_user,
        customer.pk,
        "Customer asked",
    )
    assert_refused(me(pair["access"]))
    assert_refused(refresh(pair["refresh"]))


def test_a_profile_save_or_a_login_does_not_end_sessions(customer):
    pair = login(customer)

    customer.last_login = aware_utcnow()
    customer.save(update_fields=["last_login"])
    customer.save()
    login(customer)

    assert me(pair["access"]).status_code == 200
    assert refresh(pair["refresh"]).status_code == 200


def test_revoke_all_sessions_is_set_based(customer):
    for _ in range(2):
        login(customer)
    with CaptureQueriesContext(connection) as few:
        revoke_all_sessions(user=customer)
    for _ in range(5):
        login(customer)
    with CaptureQueriesContext(connection) as many:
        revoke_all_sessions(user=customer)

    assert len(many) == len(few)
    assert BlacklistedToken.objects.filter(token__user=customer).count() == 7


def test_revoke_all_sessions_raises_the_version_on_the_callers_instance_too(customer):
    revoke_all_sessions(user=customer)

    assert User.objects.get(pk=customer.pk).session_version == customer.session_version == 1


# --- logout ------------------------------------------------------------------------------------


def test_logout_ends_this_login_and_its_access_token_only(customer):
    this, other = login(customer), login(customer)

    response = APIClient().post(LOGOUT, {"refresh": this["refresh"]})

    assert response.status_code == 204
    assert_refused(me(this["access"]))  # no need to wait for the access token to expire
    assert_refused(refresh(this["refresh"]))
    assert me(other["access"]).status_code == 200
    assert refresh(other["refresh"]).status_code == 200


def test_logout_all_ends_every_login_of_the_user(customer):
    this, other = login(customer), login(customer)
    someone_else = UserFactory()
    theirs = login(someone_else)

    response = APIClient().post(LOGOUT, {"refresh": this["refresh"], "all": True})

    assert response.status_code == 204
    for pair in (this, other):
        assert_refused(me(pair["access"]))
        assert_refused(refresh(pair["refresh"]))
    assert me(theirs["access"]).status_code == 200
    assert me(login(customer)["access"]).status_code == 200  # signing in again works


def test_logout_all_is_seen_at_once_with_the_jwt_user_cache_on(customer, settings):
    settings.JWT_USER_CACHE_SECONDS = 60
    pair = login(customer)
    assert me(pair["access"]).status_code == 200  # the user is now cached

    APIClient().post(LOGOUT, {"refresh": pair["refresh"], "all": True})

    assert_refused(me(pair["access"]))


def test_logout_all_false_is_a_plain_logout(customer):
    this, other = login(customer), login(customer)

    assert APIClient().post(LOGOUT, {"refresh": this["refresh"], "all": False}).status_code == 204
    assert me(other["access"]).status_code == 200


@pytest.mark.parametrize("value", ["true", 1, 0, "yes", None, [], {}])
def test_logout_all_must_be_a_json_boolean(customer, value):
    pair = login(customer)

    response = APIClient().post(LOGOUT, {"refresh": pair["refresh"], "all": value}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "all" in response.json()["error"]["details"]
    assert me(pair["access"]).status_code == 200  # nothing was revoked


def test_logout_with_a_rotated_refresh_token_revokes_the_family(customer):
    a = login(customer)
    b = refresh(a["refresh"]).json()

    assert_refused(APIClient().post(LOGOUT, {"refresh": a["refresh"], "all": True}))
    assert_refused(refresh(b["refresh"]))


def test_the_schema_documents_logout_all(api):
    schema = api.get("/api/v1/schema/?format=json").json()

    logout = schema["paths"]["/api/v1/auth/logout/"]["post"]
    ref = logout["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert body["properties"]["all"]["type"] == "boolean"
    assert {"204", "400", "401"} <= set(logout["responses"])


# --- the portal: idle timeout and absolute lifetime -------------------------------------------


def at(epoch: int):
    return patch("core.middleware._epoch", return_value=epoch)


def test_portal_session_ends_after_the_idle_timeout(customer, settings):
    settings.SESSION_IDLE_MINUTES = 30
    start = 1_900_000_000
    with at(start):
        browser = signed_in(customer)
        assert browser.get("/profile/").status_code == 200
    with at(start + 29 * 60):
        assert browser.get("/profile/").status_code == 200  # activity keeps it alive
    with at(start + 29 * 60 + 30 * 60):
        response = browser.get("/profile/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/profile/")
    with at(start + 60 * 60):
        page = browser.get(response["Location"])
    assert "Your session has ended" in page.content.decode()
    assert "_auth_user_id" not in browser.session


def test_portal_session_ends_at_its_absolute_lifetime_however_busy(customer, settings):
    settings.SESSION_IDLE_MINUTES = 30
    settings.SESSION_MAX_HOURS = 8
    start = 1_900_000_000
    with at(start):
        browser = signed_in(customer)
    for minutes in range(20, 8 * 60, 20):
        with at(start + minutes * 60):
            assert browser.get("/profile/").status_code == 200
    with at(start + 8 * 3600):
        response = browser.get("/profile/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_an_ended_portal_session_is_anonymous_on_the_api(customer, settings):
    settings.SESSION_IDLE_MINUTES = 30
    start = 1_900_000_000
    with at(start):
        browser = signed_in(customer)
        assert browser.get(ME).status_code == 200
    with at(start + 31 * 60):
        response = browser.get(ME)

    assert response.status_code in (401, 403)
