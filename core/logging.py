"""JSON log lines through structlog, with the request id bound by django-structlog.

Every line, Django's own included, passes through `redact_secrets`, so a password, token,
card number or CVC that reaches a log call by mistake is written as "[redacted]".
"""

import re
from typing import Any

import structlog

SENSITIVE_KEYS = re.compile(
    r"^(pan|cvc|cvv)$|password|secret|token|access|refresh|authorization|cookie|api_?key",
    re.IGNORECASE,
)
# A JWT (three base64url parts) or a run of 13-19 digits (a card number) inside any text.
SENSITIVE_VALUES = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*|\b\d{13,19}\b")
REDACTED = "[redacted]"


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return SENSITIVE_VALUES.sub(REDACTED, value)
    if isinstance(value, dict):
        return {
            k: REDACTED if SENSITIVE_KEYS.search(str(k)) else _scrub(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def redact_secrets(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    return _scrub(event_dict)


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
