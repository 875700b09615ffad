"""What `bin/fuzz` (schemathesis against the live schema) found, each held here in the normal
suite: the schema and the server must say the same thing."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.tests.api import ACCOUNTS, account_url, error_of
from ledger.tests.factories import account_for

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def schema(api):
    return api.get("/api/v1/schema/", {"format": "json"}).json()


def request_schema(schema, path, verb):
    ref = schema["paths"][path][verb]["requestBody"]["content"]["application/json"]["schema"]
    return schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[-1]]


@pytest.mark.parametrize(
    ("path", "verb"),
    [
        ("/api/v1/accounts/", "post"),
        ("/api/v1/accounts/{id}/", "patch"),
        ("/api/v1/transfers/", "post"),
        ("/api/v1/me/", "patch"),
        ("/api/v1/auth/token/", "post"),
        ("/api/v1/auth/logout/", "post"),
    ],
)
def test_request_bodies_say_unknown_fields_are_refused(schema, path, verb):
    # The server answers an unknown field with a 400 (StrictSerializer); the schema said any
    # extra property was allowed, so a client following it was refused.
    assert request_schema(schema, path, verb)["additionalProperties"] is False


@pytest.mark.parametrize("path", ["/api/v1/transfers/", "/api/v1/accounts/{id}/transactions/"])
def test_cursor_lists_document_the_smallest_and_largest_limit(schema, path):
    params = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}

    assert params["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 10**18 - 1}
    assert params["cursor"]["schema"] == {"type": "string"}


@pytest.mark.parametrize("value", [0, 12.5, True, ["x"], {"x": 1}])
def test_a_text_field_takes_only_a_json_string(customer, customer_api, value):
    # `"nickname": 0` was taken and stored as "0", though the schema says string.
    account = account_for(customer, nickname="Savings")

    response = customer_api.patch(account_url(account), {"nickname": value}, format="json")

    assert error_of(response, 400, "validation_error")["nickname"] == ["Must be a JSON string."]
    account.refresh_from_db()
    assert account.nickname == "Savings"


def test_a_profile_text_field_takes_only_a_json_string(customer_api):
    response = customer_api.patch("/api/v1/me/", {"address": 0}, format="json")

    assert error_of(response, 400, "validation_error")["address"] == ["Must be a JSON string."]


def test_the_account_patch_documents_its_required_nickname(schema):
    # The server answers `{}` with 400 "nickname: This field is required"; the schema said a
    # PATCH body had no required field.
    assert request_schema(schema, "/api/v1/accounts/{id}/", "patch")["required"] == ["nickname"]


def test_the_profile_patch_requires_nothing(schema):
    assert "required" not in request_schema(schema, "/api/v1/me/", "patch")


def test_an_empty_limit_is_refused_as_the_schema_says(customer_api):
    # `?limit=` is not an integer; it was served as the default.
    response = customer_api.get(f"{ACCOUNTS}?limit=")

    assert "limit" in error_of(response, 400, "validation_error")


def _throttle_rates(**env):
    clean = {k: v for k, v in os.environ.items() if k not in ("THROTTLE_RATES_OFF", "DEBUG")}
    script = (
        "from django.conf import settings; "
        "print(sorted(set(settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'].values()), key=str))"
    )
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_fuzzing_run_alone_switches_the_throttles_off():
    assert "None" not in _throttle_rates().stdout
    assert _throttle_rates(THROTTLE_RATES_OFF="1").stdout.strip().endswith("[None]")


def test_production_refuses_the_fuzzing_switch():
    result = _throttle_rates(
        THROTTLE_RATES_OFF="1",
        DJANGO_ENV="production",
        SECRET_KEY="x" * 64,
        CARD_PAN_KEYS="k1:" + "p" * 40,
        CARD_CVC_KEY="c" * 40,
        ALLOWED_HOSTS="bank.example",
    )

    assert result.returncode != 0
    assert "THROTTLE_RATES_OFF is for the fuzzing run" in result.stderr


def test_the_history_window_documents_a_date_or_a_datetime(schema):
    params = {
        p["name"]: p["schema"]
        for p in schema["paths"]["/api/v1/accounts/{id}/transactions/"]["get"]["parameters"]
    }

    for name in ("since", "until"):
        formats = {option.get("format") for option in params[name]["anyOf"]}
        assert formats == {None, "date", "date-time"}, name  # None: empty, no bound
        pattern = re.compile(params[name]["anyOf"][1]["pattern"])
        assert pattern.match("1900-01-01") and pattern.match("9998-12-31"), name
        assert not pattern.match("1899-12-31") and not pattern.match("9999-01-01"), name


def test_the_profile_documents_the_phone_rule(schema):
    from accounts.validators import PHONE

    phone = request_schema(schema, "/api/v1/me/", "patch")["properties"]["phone"]

    assert {"type": "string", "maxLength": 32, "pattern": PHONE.pattern} in phone["oneOf"]


@pytest.mark.parametrize("path", ["/api/v1/accounts/%0A/", "/api/v1/x%0Ay/", "/api/v1/%0D%0A"])
def test_an_api_path_with_a_line_break_is_the_json_404_even_with_debug_on(
    settings, customer_api, path
):
    # The fuzzer's finding: the catch-all `^.*$` does not match across a newline, so such a
    # path fell through to Django's HTML 404 (its debug page in the demo), not the envelope.
    settings.DEBUG = True

    for verb in ("get", "post", "patch"):
        response = getattr(customer_api, verb)(path)

        assert response["Content-Type"] == "application/json", (verb, path)
        error_of(response, 404, "not_found")
