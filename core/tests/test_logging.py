import io
import json
import logging

import pytest
from django.conf import settings
from django.urls import path
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.tests.factories import PASSWORD
from bankproject.urls import urlpatterns as real_urlpatterns

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


def test_a_request_writes_one_access_line_at_info_naming_everything(
    customer, customer_api, log_lines
):
    _, stream = log_lines

    response = customer_api.get("/api/v1/accounts/?limit=5", HTTP_USER_AGENT="Teller/2.1")

    (line,) = parsed(stream)  # request_started is DEBUG: bankproject/settings.py
    assert line["event"] == "request_finished"
    assert (line["request"], line["code"]) == ("GET /api/v1/accounts/?limit=5", 200)
    assert (line["user_id"], line["ip"]) == (str(customer.pk), "127.0.0.1")
    assert (line["user_agent"], line["request_id"]) == ("Teller/2.1", response["X-Request-ID"])


def test_a_signed_in_page_names_its_user_and_an_anonymous_request_nobody(
    customer, browser, api, log_lines
):
    _, stream = log_lines

    assert browser.get("/dashboard/").status_code == 200
    api.get("/healthz")

    page, health = (line for line in parsed(stream) if line["event"] == "request_finished")
    assert (page["request"], page["user_id"]) == ("GET /dashboard/", str(customer.pk))
    assert (health["request"], health["user_id"]) == ("GET /healthz", None)


def _broken_page(request):
    raise RuntimeError("a bug")


@pytest.mark.urls(__name__)
def test_a_request_that_fails_names_its_user_on_the_failure_line(customer, browser, log_lines):
    _, stream = log_lines
    browser.raise_request_exception = False

    assert browser.get("/log-broken/").status_code == 500

    (line,) = (line for line in parsed(stream) if line["event"] == "request_failed")
    assert (line["request"], line["code"]) == ("GET /log-broken/", 500)
    assert (line["user_id"], line["ip"]) == (str(customer.pk), "127.0.0.1")


def test_at_debug_a_request_says_when_it_started_too(api, log_lines):
    _, stream = log_lines
    logging.getLogger().setLevel(logging.DEBUG)

    api.get("/healthz", HTTP_USER_AGENT="probe")

    events = [
        line["event"]
        for line in parsed(stream)
        if line.get("logger", "").startswith("django_structlog")
    ]
    assert events == ["request_started", "request_finished"]


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


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("GET /api/v1/accounts/?password=hunter2x&limit=5", "hunter2x"),
        ("GET /x/?new_password1=abcdefgh1&old_password=zyxwvut9", "zyxwvut9"),
        ("GET /x/?card_number=4111+1111+1111+1111", "1111+1111"),
        ("GET /x/?PAN=4111111111111111", "4111111111111111"),
        ("GET /x/?cvc=123", "cvc=123"),
        ("GET /x/?Refresh_Token=abc.def.ghi", "abc.def.ghi"),
        ("GET /x/?access%3Dabc", "abc"),
        ("card 4111 1111 1111 1111 seen", "4111 1111 1111 1111"),
        ("card 4111-1111-1111-1111 seen", "4111-1111-1111-1111"),
        ("card 4111%201111%201111%201111 seen", "4111%201111"),
        ("card 3782 822463 10005 seen", "822463"),  # 15 digits, Amex grouping
        ('{"password": "two words", "amount": 5}', "two words"),
        ("{'card_number': '4000 0000 0000 0002'}", "0002"),
        ('{"cvc": 123, "x": 1}', "123"),
    ],
)
def test_redaction_covers_query_strings_bodies_and_grouped_card_numbers(text, secret):
    from core.logging import redact_secrets

    event = redact_secrets(None, "info", {"event": text})

    assert secret not in event["event"], event["event"]
    assert "[redacted]" in event["event"]


@pytest.mark.parametrize(
    "text",
    [
        "GET /api/v1/accounts/?limit=5&offset=10",
        "id 123e4567-e89b-12d3-a456-426614174000 at 2026-12-02T00:53:43Z",
        "account 1234 5678 90 received 12550 EUR",
        "phone +44 20 7946 0000",
    ],
)
def test_redaction_leaves_ordinary_text_alone(text):
    from core.logging import redact_secrets

    assert redact_secrets(None, "info", {"event": text})["event"] == text


@pytest.mark.parametrize(
    "key",
    ["Authorization", "X-Refresh-Token", "card_number", "CardNumber", "old_password", "PAN",
     "cvc_check", "Cookie", "X-CSRFToken", "api_key"],
)  # fmt: skip
def test_redaction_hides_any_key_containing_a_secret_word(key):
    from core.logging import redact_secrets

    event = redact_secrets(None, "info", {"headers": {key: "s3cr3t", "Accept": "json"}})

    assert event["headers"] == {key: "[redacted]", "Accept": "json"}


def test_a_query_string_secret_never_reaches_the_request_log(customer_api, log_lines):
    _, stream = log_lines

    customer_api.get(
        "/api/v1/accounts/",
        {"password": "hunter2 in a url", "pan": "4111 1111 1111 1111", "token": "tok-abc-123"},
    )

    text = stream.getvalue()
    assert "request_finished" in text
    for secret in ("hunter2", "4111", "tok-abc-123"):
        assert secret not in text


def test_an_upstream_request_id_that_looks_like_an_id_is_logged(api, log_lines):
    _, stream = log_lines

    api.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a", HTTP_X_CORRELATION_ID="trace.42")

    lines = parsed(stream)
    assert {line["request_id"] for line in lines} == {"lb-7f3a"}
    assert {line.get("correlation_id") for line in lines} == {"trace.42"}


def test_a_forged_upstream_id_never_reaches_a_log_line(api, log_lines):
    _, stream = log_lines

    api.get("/healthz", HTTP_X_REQUEST_ID="x\nforged", HTTP_X_CORRELATION_ID="bad id")

    lines = parsed(stream)
    assert lines
    assert all("forged" not in line["request_id"] for line in lines)
    assert all("correlation_id" not in line for line in lines)


@pytest.mark.parametrize(
    "text",
    [
        "GET /api/v1/accounts/eac766e7-41fa-4276-ac7f-2aeddd350cd4/",
        "a3be6f54-b588-4f2c-b4cd-6bc714a3743b",
        "pay 4111 1111 1111 1111 now",
        "4111-1111-1111-1111",
        "4111%201111%201111%201111",
        "?password=hunter2&x=1",
        '{"Token": "abc", "n": 1}',
        "Bearer eyJhbGciOi.eyJzdWIi.c2ln",
        "12345678-1234-1234-1234-123456789012",
        "٤١١١١١١١١١١١١١١١",  # Arabic-Indic digits are \d too
        "nothing to see",
    ],
)
def test_redaction_skips_only_text_its_patterns_cannot_match(text):
    from core import logging as bank_logging

    def unfiltered(value: str) -> str:
        value = bank_logging.JSON_PAIRS.sub(
            lambda m: f'{m["head"]}"{bank_logging.REDACTED}"', value
        )
        value = bank_logging.QUERY_PAIRS.sub(lambda m: f"{m['head']}{bank_logging.REDACTED}", value)
        return bank_logging.SENSITIVE_VALUES.sub(bank_logging.REDACTED, value)

    assert bank_logging._scrub_text(text) == unfiltered(text)


_PIECES = st.sampled_from(
    ["password", "PassWd", "toKen", "api_key", "APIKEY", "card_number", "pan", "CVC", "csrf",
     "session", "\u017fecret", "KooKie", "sess\u0131on", "=", "%3D", '": "', "'", ":", "&",
     " ", "-", "+", "%20", "4111", "1111", "12", "eyJ", "abc.", "_", "\n", "é", "ß"]
)  # fmt: skip


@given(st.lists(st.one_of(_PIECES, st.text(max_size=4)), max_size=14).map("".join))
@example("\u017fecret=hunter2")  # IGNORECASE matches the long s; lower() keeps it
@example('{"sess\u0131on": "abc"}')  # and the dotless i
@hypothesis_settings(max_examples=400)
def test_the_quick_tests_never_let_a_secret_through_that_the_patterns_would_catch(text):
    """_scrub_text skips a pattern when a cheap test says it cannot match: it must give what
    running every pattern on every text gives."""
    from core.logging import JSON_PAIRS, QUERY_PAIRS, REDACTED, SENSITIVE_VALUES, _scrub_text

    every_pattern = JSON_PAIRS.sub(lambda m: f'{m["head"]}"{REDACTED}"', text)
    every_pattern = QUERY_PAIRS.sub(lambda m: f"{m['head']}{REDACTED}", every_pattern)
    every_pattern = SENSITIVE_VALUES.sub(REDACTED, every_pattern)

    assert _scrub_text(text) == every_pattern


_FLAT_VALUES = st.one_of(
    st.lists(st.one_of(_PIECES, st.text(max_size=4)), max_size=10).map("".join),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
)


@given(
    st.dictionaries(
        st.sampled_from(["event", "request", "user_agent", "request_id", "Token", "ip", "code"]),
        _FLAT_VALUES,
        max_size=7,
    )
)
@example({"event": "paid", "request": "4111111111111111"})  # no join may hide a card number
@example({"event": "card 4111 1111 1111 1111 seen", "code": 200})
@example({"event": "pass", "request": "word=hunter2"})  # a key word split across two texts
@example({"request": "GET /x/?token=abc", "code": 200})
@example({"event": "Bearer eyJhbGciOi.eyJzdWIi.c2ln", "user_agent": None})
@hypothesis_settings(max_examples=400)
def test_a_flat_line_is_redacted_as_if_every_text_were_scrubbed_alone(event):
    """redact_secrets looks at a flat line's texts once, joined: it must give what scrubbing
    each value on its own (`_scrub`) gives."""
    from core.logging import _scrub, redact_secrets

    assert redact_secrets(None, "info", dict(event)) == _scrub(dict(event))


urlpatterns = [path("log-broken/", _broken_page), *real_urlpatterns]
handler500 = "core.errors.handler500"
