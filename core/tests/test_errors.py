"""Every error under /api/ leaves in the envelope of API.md, whatever raised it."""

import pytest
from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from bankproject.urls import urlpatterns as real_urlpatterns

pytestmark = pytest.mark.django_db


@api_view(["GET"])
@permission_classes([AllowAny])
def broken(request):
    raise RuntimeError("a bug with a secret in it: hunter2")


def plain_broken(request):
    raise RuntimeError("a bug outside DRF")


urlpatterns = [
    path("api/v1/broken/", broken),
    path("api/v1/plain-broken/", plain_broken),
    path("page-broken/", plain_broken),
    *real_urlpatterns,
]
handler404 = "core.errors.handler404"
handler500 = "core.errors.handler500"


def assert_envelope(response, status, code):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return body["error"]


def test_unknown_api_path_is_json_404(api):
    assert_envelope(api.get("/api/v1/no-such-thing/"), 404, "not_found")


def test_api_path_without_trailing_slash_is_404_not_redirect(customer_api):
    assert_envelope(customer_api.post("/api/v1/me", {}), 404, "not_found")


def test_unlisted_verb_is_405(customer_api):
    assert_envelope(customer_api.delete("/api/v1/me/"), 405, "method_not_allowed")


def test_malformed_json_is_400(api):
    response = api.post("/api/v1/auth/signup/", data="{not json", content_type="application/json")

    assert_envelope(response, 400, "validation_error")


def test_non_object_json_is_400(api):
    response = api.post("/api/v1/auth/signup/", data="[1, 2]", content_type="application/json")

    assert_envelope(response, 400, "validation_error")


def test_form_encoded_body_is_415(api):
    response = api.post(
        "/api/v1/auth/signup/", data="email=a", content_type="application/x-www-form-urlencoded"
    )

    assert_envelope(response, 415, "unsupported_media_type")


def test_body_over_one_mebibyte_is_413(api):
    big = '{"email": "' + "a" * (1024 * 1024) + '"}'

    response = api.post("/api/v1/auth/signup/", data=big, content_type="application/json")

    assert_envelope(response, 413, "request_too_large")


def test_validation_error_details_map_fields_to_lists(api):
    error = assert_envelope(api.post("/api/v1/auth/signup/", {}), 400, "validation_error")

    assert all(isinstance(messages, list) for messages in error["details"].values())


@pytest.mark.urls(__name__)
def test_bug_in_drf_view_is_500_envelope_without_trace(api):
    error = assert_envelope(api.get("/api/v1/broken/"), 500, "server_error")

    assert "hunter2" not in error["message"]
    assert "Traceback" not in str(error)


@pytest.mark.urls(__name__)
def test_bug_in_plain_view_under_api_is_500_envelope(api):
    assert_envelope(api.get("/api/v1/plain-broken/"), 500, "server_error")


@pytest.mark.urls(__name__)
def test_bug_in_a_page_is_the_500_page(client):
    client.raise_request_exception = False

    response = client.get("/page-broken/")

    assert response.status_code == 500
    assert b"Something went wrong" in response.content
    assert b"Traceback" not in response.content


def test_unknown_page_is_the_404_page(client, settings):
    settings.DEBUG = False

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert b"Page not found" in response.content


def test_every_response_carries_a_request_id(api):
    response = api.get("/healthz")

    assert len(response["X-Request-ID"]) >= 32
