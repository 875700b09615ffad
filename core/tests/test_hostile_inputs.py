"""Inputs an attacker sends on purpose: each answers a 4xx, never a 500 (API.md)."""

import base64

import pytest
from django.test import Client

from conftest import signed_in
from ledger.tests.factories import AccountFactory, account_for, funded_account, send

pytestmark = pytest.mark.django_db


def assert_validation_error(response, field: str | None = None) -> dict:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    body = response.json()
    assert body["error"]["code"] == "validation_error"
    if field:
        assert field in body["error"]["details"], body
    return body["error"]["details"]


def forged(raw: str) -> str:
    return base64.b64encode(raw.encode()).decode()


# Well-formed base64 whose position is not a time: the 400 of a bad cursor.
FORGED_CURSORS = [
    forged("p=x"),
    forged("r=1&p=2026-13-45"),
    forged("p=" + "9" * 5000),
    forged("p=\x00"),
    forged("o=x"),
    forged("o=-1"),
]
# Junk DRF's decoder reads as some first page, or refuses: a 200 or a 400, never a 500.
ODD_CURSORS = [forged("o=99999999999999999999999"), "%%%", "not base64!", "A" * 5001, ""]


def test_deeply_nested_json_is_a_400_not_a_recursion_error(api):
    body = "[" * 50_000

    response = api.post("/api/v1/auth/token/", data=body, content_type="application/json")

    assert_validation_error(response)


def test_deeply_nested_json_objects_are_a_400_too(customer_api):
    body = '{"a":' * 50_000

    response = customer_api.post("/api/v1/accounts/", data=body, content_type="application/json")

    assert_validation_error(response)


def test_ordinary_nesting_still_parses(api):
    response = api.post(
        "/api/v1/auth/token/",
        data='{"email": "nobody@example.com", "password": [[[["x"]]]]}',
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "password" in response.json()["error"]["details"]


@pytest.mark.parametrize("cursor", FORGED_CURSORS)
def test_forged_cursor_on_transfers_is_a_400(customer_api, cursor):
    response = customer_api.get("/api/v1/transfers/", {"cursor": cursor})

    assert_validation_error(response, "cursor")


@pytest.mark.parametrize("cursor", FORGED_CURSORS)
def test_forged_cursor_on_history_is_a_400(customer, customer_api, cursor):
    account = account_for(customer, amount=1000)

    response = customer_api.get(f"/api/v1/accounts/{account.pk}/transactions/", {"cursor": cursor})

    assert_validation_error(response, "cursor")


@pytest.mark.parametrize("cursor", FORGED_CURSORS)
def test_forged_cursor_on_the_account_page_is_the_400_page(customer, cursor):
    account = account_for(customer, amount=1000)
    browser = Client()
    signed_in(customer, browser)

    response = browser.get(f"/accounts/{account.pk}/", {"cursor": cursor})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("cursor", ODD_CURSORS)
def test_odd_cursors_on_transfers_are_never_a_500(customer_api, cursor):
    response = customer_api.get("/api/v1/transfers/", {"cursor": cursor})

    if response.status_code != 200:
        assert_validation_error(response, "cursor")


def test_a_real_cursor_still_pages(customer, customer_api):
    account = account_for(customer, amount=1000)
    other = AccountFactory()
    for _ in range(3):
        send(account, other, 10)

    first = customer_api.get("/api/v1/transfers/", {"limit": 2}).json()
    second = customer_api.get(first["next"])

    assert second.status_code == 200
    assert len(second.json()["results"]) == 1


@pytest.mark.parametrize(
    "offset",
    ["1" + "0" * 20, "9" * 19, "9" * 400, "-1", "-" + "9" * 30, "x", "1e20", "1.5", " 1", "٣"],
)
def test_hostile_offsets_on_accounts_never_500(customer_api, offset):
    response = customer_api.get("/api/v1/accounts/", {"offset": offset})

    if response.status_code == 200:
        assert response.json()["results"] == []
    else:
        assert_validation_error(response, "offset")


def test_a_valid_offset_still_pages(customer, customer_api):
    for _ in range(3):
        account_for(customer)

    response = customer_api.get("/api/v1/accounts/", {"offset": 2})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("until", "9999-12-31"),
        ("since", "0001-01-01"),
        ("until", "9999-12-31T23:59:59"),
        ("since", "0001-01-01T00:00:00+05:00"),
        ("until", "9999-12-31T23:59:59-05:00"),
        ("since", "9999-12-31"),
    ],
)
def test_dates_at_the_edge_of_the_calendar_are_a_400(customer, customer_api, field, value):
    account = account_for(customer, amount=1000)

    response = customer_api.get(f"/api/v1/accounts/{account.pk}/transactions/", {field: value})

    assert_validation_error(response, field)


def test_dates_at_the_edge_of_the_calendar_on_the_page_are_not_a_500(customer):
    account = account_for(customer, amount=1000)
    browser = Client()
    signed_in(customer, browser)

    response = browser.get(f"/accounts/{account.pk}/", {"until": "9999-12-31"})

    assert response.status_code in (200, 400)


@pytest.mark.parametrize("verb", ["post", "put", "patch", "delete"])
def test_a_write_to_an_unknown_api_path_is_the_json_404_not_a_csrf_page(customer, verb):
    browser = Client(enforce_csrf_checks=True)
    signed_in(customer, browser)

    response = getattr(browser, verb)(
        "/api/v1/no-such-thing/", data="{}", content_type="application/json"
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", ["/api/v1/nothing/here", "/api/v2/accounts/", "/api/"])
def test_a_write_to_an_unknown_api_path_without_a_session_is_the_json_404(path):
    response = Client(enforce_csrf_checks=True).post(path, data={})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_portal_form_without_its_csrf_token_is_still_refused(customer):
    browser = Client(enforce_csrf_checks=True)
    signed_in(customer, browser)

    response = browser.post("/profile/", {"first_name": "Mallory"})

    assert response.status_code == 403


def test_transfer_from_someone_elses_account_is_a_404_the_schema_documents(customer_api):
    stranger, payee = funded_account(1000), AccountFactory()

    response = customer_api.post(
        "/api/v1/transfers/",
        {"from_account": str(stranger.pk), "to_account_number": payee.number, "amount": 100},
    )
    schema = customer_api.get("/api/v1/schema/", {"format": "json"}).json()

    assert response.status_code == 404
    assert "404" in schema["paths"]["/api/v1/transfers/"]["post"]["responses"]


def test_every_write_that_names_an_object_documents_its_404(customer_api):
    schema = customer_api.get("/api/v1/schema/", {"format": "json"}).json()
    bodies = schema["components"]["schemas"]

    for path, operations in schema["paths"].items():
        for verb, operation in operations.items():
            if verb not in ("post", "put", "patch"):
                continue
            ref = (
                operation.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema", {})
                .get("$ref", "")
            )
            fields = bodies.get(ref.rsplit("/", 1)[-1], {}).get("properties", {})
            names_one = "{" in path or any(
                p.get("format") == "uuid" or name.endswith("account_number")
                for name, p in fields.items()
            )
            if names_one:
                assert "404" in operation["responses"], (verb, path)
