"""The OpenAPI schema lists every card endpoint and every status it answers."""

import pytest

pytestmark = pytest.mark.django_db

COMMON = {"405", "429"}
SIGNED_IN = COMMON | {"401"}
WRITE = {"400", "413"}
EXPECTED = {
    ("get", "/api/v1/cards/"): SIGNED_IN | {"200", "400"},
    ("post", "/api/v1/cards/"): SIGNED_IN | WRITE | {"201", "404", "422"},
    ("get", "/api/v1/cards/{id}/"): SIGNED_IN | {"200", "404"},
    ("patch", "/api/v1/cards/{id}/"): SIGNED_IN | WRITE | {"200", "404", "422"},
    ("post", "/api/v1/cards/{id}/freeze/"): SIGNED_IN | WRITE | {"200", "404", "422"},
    ("post", "/api/v1/cards/{id}/unfreeze/"): SIGNED_IN | WRITE | {"200", "404", "422"},
    ("post", "/api/v1/cards/{id}/cancel/"): SIGNED_IN | WRITE | {"200", "404", "422"},
    # no login: no 401; a decline is a 402, a reused key with another body a 409
    ("post", "/api/v1/card-payments/"): COMMON | WRITE | {"201", "402", "409"},
    ("post", "/api/v1/card-authorizations/"): COMMON | WRITE | {"201", "402", "409"},
    # another card's authorisation is a 404; a closed one a 422
    ("post", "/api/v1/card-authorizations/{id}/capture/"): COMMON
    | WRITE
    | {"201", "402", "404", "409", "422"},
    ("post", "/api/v1/card-authorizations/{id}/void/"): COMMON
    | WRITE
    | {"200", "402", "404", "422"},
}


@pytest.fixture
def schema(api):
    return api.get("/api/v1/schema/", {"format": "json"}).json()


def test_every_card_endpoint_and_status_is_in_the_schema(schema):
    found = {
        (verb, path): set(operation["responses"]) - {"414"}  # every operation's: core/schema.py
        for path, operations in schema["paths"].items()
        if "card" in path
        for verb, operation in operations.items()
    }

    assert found == EXPECTED


def test_the_issue_answer_documents_pan_and_cvc_and_nothing_else_does(schema):
    def properties(verb, path, status):
        content = schema["paths"][path][verb]["responses"][status]["content"]
        ref = content["application/json"]["schema"]
        ref = ref.get("$ref") or ref["properties"]["results"]["items"]["$ref"]
        return set(schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]["properties"])

    assert {"pan", "cvc"} <= properties("post", "/api/v1/cards/", "201")
    for verb, path, status in [
        ("get", "/api/v1/cards/", "200"),
        ("get", "/api/v1/cards/{id}/", "200"),
        ("patch", "/api/v1/cards/{id}/", "200"),
        ("post", "/api/v1/card-payments/", "201"),
        ("post", "/api/v1/card-authorizations/", "201"),
        ("post", "/api/v1/card-authorizations/{id}/capture/", "201"),
        ("post", "/api/v1/card-authorizations/{id}/void/", "200"),
    ]:
        assert not {"pan", "cvc"} & properties(verb, path, status), (verb, path)


def test_card_payments_need_no_login_in_the_schema(schema):
    operation = schema["paths"]["/api/v1/card-payments/"]["post"]

    assert operation.get("security") in ([], [{}], None) or {} in operation["security"]
    assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]]
