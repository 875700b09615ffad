"""The yardstick's server: the same Django, DRF and database settings, without anything the
bank adds around a request (no middleware, no request logging)."""

from bankproject.settings import *  # noqa: F403

ROOT_URLCONF = "bench.pipeline_urls"
MIDDLEWARE: list[str] = []
