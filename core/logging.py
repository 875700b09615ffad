"""JSON log lines through structlog, with the request id bound by django-structlog.

Every line, Django's own included, passes through `redact_secrets`, so a password, token,
card number or CVC that reaches a log call by mistake is written as "[redacted]": by key in
dicts (headers, bodies), by `key=value` in query strings and form bodies, by `"key": value` in
JSON text, and card numbers and JWTs by their shape anywhere.
"""

import functools
import re
from typing import Any

import structlog

# A key that names a secret, anywhere inside it and in any case: `password`, `old_password`,
# `X-Refresh-Token`, `card_number`, `pan`, `CVC`. Broad on purpose (`company` contains `pan`):
# a field wrongly hidden costs a look at the code, a secret wrongly shown costs the customer.
_KEY_WORDS = (
    r"password|passwd|secret|token|refresh|access|authorization|cookie|api_?key|session"
    r"|pan|cvc|cvv|card_?number|csrf"
)
SENSITIVE_KEYS = re.compile(_KEY_WORDS, re.IGNORECASE)
# Inside text: a JWT; a card number of 13-19 digits, written together or in groups split by
# spaces, dashes, or their URL forms (+, %20); `key=value` in a query string or a form body;
# `"key": "value"` in JSON (or a Python repr) of a body.
_DIGITS = r"(?<![\w-])\d(?:(?:[ +-]|%20)?\d){12,18}(?![\w-])"
SENSITIVE_VALUES = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*|" + _DIGITS)
_KEY = r"[\w.\[\]-]*(?:" + _KEY_WORDS + r")[\w.\[\]-]*"
QUERY_PAIRS = re.compile(r"(?P<head>" + _KEY + r"(?:=|%3D))[^&;\s]+", re.IGNORECASE)
JSON_PAIRS = re.compile(
    r"(?P<head>" + _KEY + r"[\"']\s*:\s*)"
    r"(?:\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|[^,}\]\s]+)",
    re.IGNORECASE,
)
REDACTED = "[redacted]"
# Cheap tests that say when the patterns above cannot match, so most text (paths, ids, user
# agents) skips them: JSON_PAIRS and QUERY_PAIRS need a key word, SENSITIVE_VALUES needs "eyJ"
# or 13 digits. The patterns' `[\w.-]*` around the key words backtrack over every run of word
# characters, which made the scrubbing of a request's two log lines cost as much Python as
# the rest of an authenticated GET (bench/pipeline.py).
# Later still: a case-insensitive alternation of fifteen words, tried at every position, cost
# more than the rest of a log line together; ASCII text (nearly all of it) is lowered once and
# searched for plain substrings, each of which every word of _KEY_WORDS contains.
_ANY_KEY_WORD = re.compile(_KEY_WORDS, re.IGNORECASE)
_KEY_WORD_MARKS = (
    "passw", "secret", "token", "refresh", "access", "authorization", "cookie", "apikey",
    "api_key", "session", "pan", "cvc", "cvv", "cardnumber", "card_number", "csrf",
)  # fmt: skip
_CARD_DIGITS = re.compile(_DIGITS)  # a uuid has 13 digits, never 13 in a row


def _has_key_word(text: str) -> bool:
    if text.isascii():  # where lower() is exactly what IGNORECASE matches
        lowered = text.lower()
        return any(mark in lowered for mark in _KEY_WORD_MARKS)
    return _ANY_KEY_WORD.search(text) is not None


def _may_hold_a_value(text: str) -> bool:
    """False when SENSITIVE_VALUES cannot match: it needs "eyJ" or 13 digits."""
    return "eyJ" in text or _CARD_DIGITS.search(text) is not None


def _scrub_text(text: str) -> str:
    if _has_key_word(text):
        text = JSON_PAIRS.sub(lambda m: f'{m["head"]}"{REDACTED}"', text)
        text = QUERY_PAIRS.sub(lambda m: f"{m['head']}{REDACTED}", text)
    if _may_hold_a_value(text):
        text = SENSITIVE_VALUES.sub(REDACTED, text)
    return text


@functools.lru_cache(maxsize=4096)
def _sensitive_key(key: str) -> bool:
    """A log line's keys are a small set (event, request, user_id, ...): each is tested once."""
    return SENSITIVE_KEYS.search(key) is not None


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _scrub_text(value)
    if isinstance(value, dict):
        return {k: REDACTED if _sensitive_key(str(k)) else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def _may_hold_a_secret(text: str) -> bool:
    """False when `_scrub_text(text)` is certain to give `text` back unchanged."""
    return _has_key_word(text) or _may_hold_a_value(text)


# Joins a log line's texts for one look at them all: neither a word character nor a dash nor
# a card number's group separator, so no pattern matches across it, and each text's own
# matches are still matches in the joined text.
_JOIN = "\x00"


def redact_secrets(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Every value scrubbed (`_scrub`). A request's log line is flat (texts, numbers, None) and
    nearly always clean: its texts are looked at once, joined, and only a line that may hold a
    secret is scrubbed text by text. Each text's look cost more than the rest of the line."""
    texts = []
    for value in event_dict.values():
        if isinstance(value, str):
            texts.append(value)
        elif value is not None and not isinstance(value, int | float):  # bool is an int
            return _scrub(event_dict)
    if _may_hold_a_secret(_JOIN.join(texts)):
        return _scrub(event_dict)
    return {k: REDACTED if _sensitive_key(str(k)) else v for k, v in event_dict.items()}


def _drop_request_object(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    # Django's error logs put the HttpRequest in `extra`; it has no place in a JSON line.
    if not isinstance(event_dict.get("request"), str):
        event_dict.pop("request", None)
    event_dict.pop("server_time", None)
    return event_dict


SHARED_PROCESSORS = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]

FOREIGN_PRE_CHAIN = [
    *SHARED_PROCESSORS,
    structlog.stdlib.ExtraAdder(),
    _drop_request_object,
]


def logging_config(*, level: str, renderer: str) -> dict[str, Any]:
    final = (
        structlog.dev.ConsoleRenderer(colors=False)
        if renderer == "console"
        else structlog.processors.JSONRenderer()
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    redact_secrets,
                    final,
                ],
                "foreign_pre_chain": FOREIGN_PRE_CHAIN,
            },
        },
        "handlers": {"stream": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["stream"], "level": level},
        "loggers": {
            # Django logs a request's 4xx/5xx after django-structlog has unbound the request id;
            # structlog's request_finished / request_failed lines say the same with the id.
            "django.request": {"level": "CRITICAL"},
            "django.server": {"level": "WARNING"},
            "django.db.backends": {"level": "WARNING"},
            "axes": {"level": "WARNING"},
            "faker": {"level": "WARNING"},
        },
    }


def configure_structlog() -> None:
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *SHARED_PROCESSORS,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.UnicodeDecoder(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )


def current_request_id() -> str:
    """The id django-structlog bound for the request being served ("" outside a request), for
    records that must lead back to the request's log lines."""
    return str(structlog.contextvars.get_contextvars().get("request_id") or "")[:64]
