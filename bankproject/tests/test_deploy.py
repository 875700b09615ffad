"""Production serving: the compose file, the Dockerfile and .env.example parsed (no Docker
engine runs here), and bin/start run outside a container."""

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import yaml

from bankproject.tests.test_settings import card_keys

ROOT = Path(__file__).resolve().parents[2]
START = ROOT / "bin" / "start"
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def env_example_keys() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))


# --- compose -------------------------------------------------------------------------------------


def test_compose_runs_postgres_redis_a_one_shot_migration_and_the_web():
    assert set(SERVICES) == {"db", "redis", "migrate", "web"}
    assert SERVICES["db"]["image"].startswith("postgres:")
    assert SERVICES["redis"]["image"].startswith("redis:")
    assert SERVICES["migrate"]["command"] == ["/app/bin/start", "migrate"]
    assert SERVICES["migrate"]["restart"] == "no"
    assert SERVICES["web"]["command"] == ["/app/bin/start"]
    assert SERVICES["web"]["ports"] == ["${PORT:-8000}:8000"]


def test_compose_keeps_the_database_on_a_named_volume():
    assert "pgdata" in COMPOSE["volumes"]
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["db"]["volumes"]


def test_compose_services_have_healthchecks():
    assert "pg_isready" in " ".join(SERVICES["db"]["healthcheck"]["test"])
    assert SERVICES["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "/readyz" in " ".join(SERVICES["web"]["healthcheck"]["test"])


def test_compose_web_waits_for_a_healthy_database_and_a_finished_migration():
    assert SERVICES["web"]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    assert SERVICES["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    # Replicas of the web service must not race each other to migrate.
    assert SERVICES["web"]["environment"]["MIGRATE_ON_START"] == "false"


def test_compose_runs_the_bank_in_production_on_postgres_and_redis():
    for name in ("migrate", "web"):
        env = SERVICES[name]["environment"]
        assert env["DJANGO_ENV"] == "production"
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")  # no default secret
        assert env["DATABASE_URL"].startswith("postgres://") and "@db:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert SERVICES[name]["env_file"] == [{"path": ".env", "required": False}]


def test_compose_stops_the_web_after_gunicorn_had_its_graceful_timeout():
    gunicorn = runpy.run_path(str(ROOT / "bankproject" / "gunicorn.conf.py"))

    grace = int(SERVICES["web"]["stop_grace_period"].removesuffix("s"))
    assert grace > gunicorn["graceful_timeout"] > 0


def test_every_variable_compose_reads_is_in_env_example():
    text = (ROOT / "docker-compose.yml").read_text()
    read = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))
    set_ = {key for name in ("migrate", "web") for key in SERVICES[name]["environment"]}
    assert read | set_ <= env_example_keys()


# Read from the environment but deliberately not settings for an operator.
NOT_SETTINGS = {
    "TESTING": "set by the test runner only",
    "THROTTLE_RATES_OFF": "the fuzzing run only; production refuses to start with it",
    "PYTHON": "bin/start's interpreter, not a setting of the bank",
    "GUNICORN_BIND": "the benchmark's override of HOST and PORT",
}


def test_every_setting_read_from_the_environment_is_in_env_example():
    sources = {
        "bankproject/settings.py": r'env(?:\.[a-z_]+)?\(\s*"([A-Z][A-Z0-9_]+)"',
        "bankproject/gunicorn.conf.py": r'environ\.get\(\s*"([A-Z][A-Z0-9_]+)"',
        "demo/management/commands/seed.py": r'environ\.get\(\s*"([A-Z][A-Z0-9_]+)"',
        "bin/start": r"\$\{([A-Z][A-Z0-9_]+):-",
    }
    read = set()
    for path, pattern in sources.items():
        found = set(re.findall(pattern, (ROOT / path).read_text()))
        assert found, path
        read |= found
    assert read - set(NOT_SETTINGS) <= env_example_keys(), read - env_example_keys()


# --- Dockerfile ----------------------------------------------------------------------------------


def test_dockerfile_starts_with_the_start_script():
    text = (ROOT / "Dockerfile").read_text()

    assert 'CMD ["/app/bin/start"]' in text
    assert "ENTRYPOINT" not in text  # nothing between docker stop's SIGTERM and gunicorn
    assert "pip install --require-hashes" in text
    assert "collectstatic" in text
    assert "USER bank" in text
    assert "HOST=0.0.0.0" in text
    assert "HEALTHCHECK" in text


def test_start_script_execs_gunicorn_with_its_config():
    text = START.read_text()

    assert os.access(START, os.X_OK)
    assert "manage.py migrate --noinput" in text
    assert "manage.py collectstatic --noinput" in text
    assert 'exec "$PYTHON" -m gunicorn --config bankproject/gunicorn.conf.py' in text
    assert "seed --allow-production" in text


# --- bin/start outside a container -------------------------------------------------------------


def run_start(*args: str, tmp_path: Path, **extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(VAR_DIR=str(tmp_path), PYTHON=sys.executable, **extra)
    return subprocess.run(
        [str(START), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_start_migrate_brings_the_database_up_to_date_and_exits(tmp_path):
    result = run_start("migrate", tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "bank.sqlite3").exists()
    check = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--check"],
        cwd=ROOT,
        env={**os.environ, "VAR_DIR": str(tmp_path), "DATABASE_URL": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_start_refuses_an_unknown_command(tmp_path):
    result = run_start("serve-forever", tmp_path=tmp_path)

    assert result.returncode == 2
    assert "usage: bin/start" in result.stderr
    assert not (tmp_path / "bank.sqlite3").exists()


def test_production_serves_hashed_compressed_static_files(tmp_path):
    code = (
        "from django.conf import settings; "
        "print(settings.STORAGES['staticfiles']['BACKEND'], settings.WHITENOISE_USE_FINDERS)"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bankproject.settings",
            "DJANGO_ENV": "production",
            "SECRET_KEY": "x" * 60,
            "CARD_PAN_KEYS": "k1:" + "p" * 40,
            "CARD_CVC_KEY": "c" * 40,
            "ALLOWED_HOSTS": "bank.example.com",
            "VAR_DIR": str(tmp_path),
            "TESTING": "",
            **card_keys(),  # production refuses to start without them
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.stdout.split() == [
        "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "False",
    ], result.stderr
