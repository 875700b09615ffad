"""The portal's messages (django.contrib.messages) and the API: core.middleware.MessageMiddleware
builds no message storage under /api/, and a message a page queued waits for the next page."""

import pytest

pytestmark = pytest.mark.django_db

PROFILE = {
    "first_name": "Grace",
    "last_name": "Hopper",
    "phone": "+1 212 555 0100",
    "address": "1 Navy Way, Arlington",
    "date_of_birth": "1906-12-09",
}


def test_an_api_request_builds_no_message_storage_and_a_page_does(browser):
    api = browser.get("/api/v1/me/")
    page = browser.get("/profile/")

    assert api.status_code == 200 and page.status_code == 200
    assert not hasattr(api.wsgi_request, "_messages")
    assert hasattr(page.wsgi_request, "_messages")


def test_a_message_a_page_queued_waits_through_api_requests_for_the_next_page(browser):
    assert browser.post("/profile/", PROFILE).status_code == 302

    for _ in range(2):  # the same signed-in browser calls the API in between
        assert browser.get("/api/v1/me/").status_code == 200
    page = browser.get("/profile/")
    again = browser.get("/profile/")

    assert b"Your details are saved." in page.content
    assert b"Your details are saved." not in again.content  # shown once
