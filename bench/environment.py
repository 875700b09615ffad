"""The one environment shared by the bench process and the gunicorn it starts: production
mode against the bench database, quiet logs, a throttle that does not get in the way."""

import os
import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bank_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def bench_environment(*, database_url: str, redis_url: str) -> dict[str, str]:
    for url in (database_url, redis_url):
        host = urlsplit(url).hostname or ""
        if host not in {"127.0.0.1", "localhost", "::1"}:
            raise SystemExit(f"The bench runs on this machine only, not against {host!r}.")
    env = {
        "DJANGO_SETTINGS_MODULE": "bankproject.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DJANGO_ENV": "production",
        "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CARD_PAN_KEYS": f"bench:{secrets.token_urlsafe(32)}",
        "CARD_CVC_KEY": secrets.token_urlsafe(32),
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "GUNICORN_LOG_LEVEL": "warning",
        "THROTTLE_USER": "1000000/min",
        "JWT_ACCESS_MINUTES": "240",
    }
    return env


def setup_django(env: dict[str, str]) -> None:
    """Put the bench's environment in place and start Django in this process."""
    os.environ.update(env)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
