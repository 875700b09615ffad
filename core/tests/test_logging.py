import io
import json
import logging

import pytest
from django.conf import settings

from accounts.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_lines():
    """What the production handler writes, one parsed JSON object per line."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    config = settings.LOGGING["formatters"]["structured"]
    handler.setFormatter(
        config["()"](processors=config["processors"], foreign_pre_chain=config["foreign_pre_chain"])
    )
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    lines: list[dict] = []
    yield lines, stream
    root.removeHandler(handler)
    root.setLevel(previous)


def parsed(stream):
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_request_log_lines_are_json_with_the_request_id(api, log_lines):
    _, stream = log_lines

    response = api.get("/healthz")

    lines = parsed(stream)
    assert lines, "no log line written"
    assert {line["request_id"] for line in lines} == {response["X-Request-ID"]}
    assert any(line["event"] == "request_finished" and line["code"] == 200 for line in lines)


def test_no_password_or_token_in_any_log_line(api, customer, log_lines):
    _, stream = log_lines

    tokens = api.post("/api/v1/auth/token/", {"email": customer.email, "password": PASSWORD}).json()
    api.post("/api/v1/auth/token/", {"email": customer.email, "password": "wrong guess 123"})
    api.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})
    api.post(
        "/api/v1/auth/signup/",
        {
            "email": "x@example.com",
            "password": "hunter2 hunter2",
            "first_name": "X",
            "last_name": "Y",
        },
    )
    api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")

    text = stream.getvalue()
    assert text
    for secret in (
        PASSWORD,
        "wrong guess 123",
        "hunter2 hunter2",
        tokens["access"],
        tokens["refresh"],
    ):
        assert secret not in text
    assert [line for line in parsed(stream) if "request_id" not in line] == []


def test_redaction_scrubs_keys_and_embedded_secrets():
    from core.logging import redact_secrets

    event = redact_secrets(
        None,
        "info",
        {
            "event": "card 4111111111111111 and eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl seen",
            "password": "x",
            "nested": {"refresh": "y", "amount": 5},
        },
    )

    assert "4111111111111111" not in event["event"]
    assert "eyJhbGciOi" not in event["event"]
    assert event["password"] == "[redacted]"
    assert event["nested"] == {"refresh": "[redacted]", "amount": 5}
