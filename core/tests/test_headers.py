"""Headers every answer carries: Cache-Control no-store on the API and signed-in pages, and a
request id that is an id."""

import uuid
from unittest import mock

import pytest
from django.test import Client

from accounts.tests.factories import PASSWORD
from conftest import signed_in

pytestmark = pytest.mark.django_db


def assert_no_store(response) -> None:
    assert "no-store" in response.get("Cache-Control", ""), (response.status_code, response.headers)


@pytest.mark.parametrize(
    "path", ["/api/v1/accounts/", "/api/v1/me/", "/api/v1/transfers/", "/api/v1/no-such/"]
)
def test_every_api_answer_is_no_store(customer_api, path):
    assert_no_store(customer_api.get(path))


def test_a_json_answer_allows_nothing_to_load_or_frame_it(customer_api, api):
    for response in (customer_api.get("/api/v1/accounts/"), api.get("/api/v1/accounts/")):
        assert response["Content-Type"] == "application/json"
        assert response["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_a_page_keeps_the_sites_policy(browser):
    policy = browser.get("/dashboard/")["Content-Security-Policy"]

    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


def test_token_responses_are_no_store(api, customer):
    response = api.post("/api/v1/auth/token/", {"email": customer.email, "password": PASSWORD})

    assert response.status_code == 200
    assert_no_store(response)


def test_api_refusals_are_no_store_too(api):
    assert_no_store(api.get("/api/v1/accounts/"))  # 401
    assert_no_store(api.post("/api/v1/auth/token/", data="[" * 5, content_type="application/json"))


@pytest.mark.parametrize(
    "path", ["/dashboard/", "/profile/", "/accounts/new/", "/password/change/"]
)
def test_signed_in_pages_are_no_store(customer, path):
    browser = Client()
    signed_in(customer, browser)

    response = browser.get(path)

    assert response.status_code == 200
    assert_no_store(response)


def test_no_store_writes_what_djangos_add_never_cache_headers_writes():
    from django.http import HttpResponse
    from django.utils.cache import add_never_cache_headers

    from core.middleware import NoStoreMiddleware

    ours, djangos = HttpResponse(), HttpResponse()
    with mock.patch("time.time", return_value=1_796_482_800.0):  # one clock for both
        NoStoreMiddleware.never_cache(ours)
        add_never_cache_headers(djangos)

    assert ours.headers == djangos.headers


@pytest.mark.parametrize(
    "headers",
    [
        {"Cache-Control": "no-transform"},
        {"Cache-Control": "public, max-age=600"},
        {"Expires": "Thu, 01 Jan 2026 00:00:00 GMT"},
    ],
)
def test_no_store_merges_with_what_a_view_said_as_django_does(headers):
    from django.http import HttpResponse
    from django.utils.cache import add_never_cache_headers

    from core.middleware import NoStoreMiddleware

    ours, djangos = HttpResponse(headers=headers), HttpResponse(headers=headers)
    with mock.patch("time.time", return_value=1_796_482_800.0):  # one clock for both
        NoStoreMiddleware.never_cache(ours)
        add_never_cache_headers(djangos)

    assert ours.headers == djangos.headers
    assert "no-store" in ours["Cache-Control"]


def test_the_public_landing_page_may_be_cached(client):
    response = client.get("/")

    assert "no-store" not in response.get("Cache-Control", "")


def test_a_well_formed_upstream_request_id_is_kept(api):
    response = api.get("/healthz", HTTP_X_REQUEST_ID="lb-1234.abc_DEF-9")

    assert response["X-Request-ID"] == "lb-1234.abc_DEF-9"


@pytest.mark.parametrize(
    "forged",
    [
        "x" * 65,
        "abc\ninjected log line",
        "<script>alert(1)</script>",
        "a b",
        "ok;rm -rf",
        "",
        "é",
    ],
)
def test_a_request_id_that_is_not_an_id_is_replaced_by_a_fresh_uuid(api, forged):
    response = api.get("/healthz", HTTP_X_REQUEST_ID=forged)

    assert response["X-Request-ID"] != forged
    uuid.UUID(response["X-Request-ID"])
