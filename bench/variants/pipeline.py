"""The bank's production settings, plus the bare view's URL (bench/pipeline_urls.py)."""

from bankproject.settings import *  # noqa: F403

ROOT_URLCONF = "bench.pipeline_urls"
