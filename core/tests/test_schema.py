import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api):
    response = api.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_lists_the_auth_endpoints(schema):
    for path in (
        "/api/v1/auth/signup/",
        "/api/v1/auth/token/",
        "/api/v1/auth/token/refresh/",
        "/api/v1/auth/logout/",
        "/api/v1/me/",
    ):
        assert path in schema["paths"], path


def test_token_endpoints_document_their_401(schema):
    for path in ("/api/v1/auth/token/", "/api/v1/auth/token/refresh/", "/api/v1/auth/logout/"):
        assert "401" in schema["paths"][path]["post"]["responses"], path


def test_every_operation_documents_the_error_envelope(schema):
    for path, operations in schema["paths"].items():
        for verb, operation in operations.items():
            errors = [code for code in operation["responses"] if code.startswith(("4", "5"))]
            assert "429" in errors and "405" in errors, (verb, path)
            assert "content" not in operation["responses"]["414"], (verb, path)  # not ours
            if verb in ("post", "patch", "put"):
                assert "400" in errors and "413" in errors, (verb, path)
    assert "Error" in schema["components"]["schemas"]


def test_docs_page_has_no_inline_script_and_no_outside_host(api):
    response = api.get("/api/v1/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"<script>(?!\s*</script>)", html)
    assert "<style" not in html
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_docs_init_script_is_served_as_javascript(api):
    response = api.get("/api/v1/docs/", {"script": ""})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
