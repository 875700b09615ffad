"""Production mode is the same code with the demo defaults removed."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def card_keys() -> dict[str, str]:
    """The card keys production requires (bankproject/settings.py, "Cards")."""
    return {
        "CARD_PAN_KEYS": f"k2:{secrets.token_urlsafe(32)},k1:{secrets.token_urlsafe(32)}",
        "CARD_CVC_KEY": secrets.token_urlsafe(32),
    }


def manage(*args, **env_overrides):
    inherited = (
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DEBUG",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "CARD_PAN_KEYS",
        "CARD_CVC_KEY",
    )
    env = {k: v for k, v in os.environ.items() if k not in inherited}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_its_secrets(missing):
    env = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "bank.example",
    }
    del env[missing]

    result = manage("check", **env)

    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr


def test_check_deploy_is_clean_in_production():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="bank.example",
        **card_keys(),
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_debug_false_is_production_too():
    result = manage("check", DEBUG="false")

    assert result.returncode != 0
    assert "must be set" in result.stderr


def test_redis_url_switches_the_cache_to_redis_and_it_works():
    script = (
        "from django.core.cache import cache; from django.conf import settings; "
        "print(settings.CACHES['default']['BACKEND']); "
        "cache.set('ci-probe', 42, 5); print(cache.get('ci-probe'))"
    )

    result = manage("shell", "-c", script, REDIS_URL="redis://127.0.0.1:6379/15")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["django.core.cache.backends.redis.RedisCache", "42"]


def test_without_redis_the_cache_is_the_database():
    result = manage("shell", "-c", "from django.conf import settings; print(settings.CACHES)")

    assert "DatabaseCache" in result.stdout


def test_sqlite_runs_with_wal_and_a_busy_timeout(tmp_path):
    script = (
        "from django.db import connection; c = connection.cursor(); "
        "mode = c.execute('PRAGMA journal_mode').fetchone()[0]; "
        "print(mode, c.execute('PRAGMA busy_timeout').fetchone()[0])"
    )

    result = manage("shell", "-c", script, VAR_DIR=str(tmp_path), DATABASE_URL="")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["wal", "30000"]


def test_check_deploy_is_clean_with_debug_off_and_the_production_env(tmp_path):
    """As an operator deploys it: DEBUG off, behind one proxy, with every production variable,
    and the rate limits and throttles set from the environment."""
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "DEBUG",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(64),
        JWT_SIGNING_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="bank.example,www.bank.example",
        CSRF_TRUSTED_ORIGINS="https://bank.example",
        TRUSTED_PROXY_COUNT="1",
        RATE_LOGIN="30/15min",
        THROTTLE_AUTH="30/min",
        VAR_DIR=str(tmp_path),
        **card_keys(),
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_mode_takes_its_trusted_proxy_count_from_the_environment():
    script = "from django.conf import settings as s; print(s.TRUSTED_PROXY_COUNT, s.DEBUG)"

    result = manage(
        "shell",
        "-c",
        script,
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="bank.example",
        TRUSTED_PROXY_COUNT="2",
        **card_keys(),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["2", "False"]


@pytest.mark.parametrize("missing", ["CARD_PAN_KEYS", "CARD_CVC_KEY"])
def test_production_refuses_to_start_without_the_card_keys(missing):
    env = {"DJANGO_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(64)}
    env.update(ALLOWED_HOSTS="bank.example", **card_keys())
    del env[missing]

    result = manage("check", **env)

    assert result.returncode != 0
    assert "CARD_PAN_KEYS and CARD_CVC_KEY must be set" in result.stderr


@pytest.mark.parametrize("reused", ["secret", "pan"])
def test_production_refuses_card_keys_equal_to_another_key(reused):
    secret, pan = secrets.token_urlsafe(64), secrets.token_urlsafe(32)
    result = manage(
        "check",
        DJANGO_ENV="production",
        SECRET_KEY=secret,
        ALLOWED_HOSTS="bank.example",
        CARD_PAN_KEYS=f"k1:{pan}",
        CARD_CVC_KEY=secret if reused == "secret" else pan,
    )

    assert result.returncode != 0
    assert "must differ from SECRET_KEY and from each other" in result.stderr


def test_production_refuses_a_short_card_key():
    result = manage(
        "check",
        DJANGO_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="bank.example",
        CARD_PAN_KEYS="k1:short",
        CARD_CVC_KEY=secrets.token_urlsafe(32),
    )

    assert result.returncode != 0
    assert "at least 32 characters" in result.stderr
