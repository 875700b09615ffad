"""Ops: the seed, createsuperuser, and the container files (Docker cannot run here, so they are
parsed, and the entrypoint runs outside a container)."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from ledger.checks import check_ledger
from ledger.models import Account, Entry

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_seed_is_idempotent():
    call_command("seed", "--users", "4", verbosity=0)
    users, entries = User.objects.count(), Entry.objects.count()

    call_command("seed", "--users", "4", verbosity=0)

    assert (User.objects.count(), Entry.objects.count()) == (users, entries)
    assert User.objects.filter(email="demo@example.com").exists()
    assert User.objects.get(email="staff@example.com").is_staff


@pytest.mark.django_db
def test_seed_posts_six_months_of_balanced_history():
    call_command("seed", "--users", "4", verbosity=0)

    demo = User.objects.get(email="demo@example.com")
    accounts = Account.objects.filter(holder__user=demo)
    entries = Entry.objects.filter(account__in=accounts)
    oldest = entries.order_by("created_at").first().created_at
    assert demo.check_password("demo-password-2026")
    assert demo.holder.address and demo.holder.full_name == "Dana Demo"
    assert {a.type for a in accounts} == {"checking", "savings"}
    assert len({a.currency for a in accounts}) >= 2
    assert timezone.now() - oldest > timedelta(days=170)
    assert entries.filter(transaction__description__startswith="Salary").count() >= 5
    assert entries.filter(counterparty__holder__user__email__endswith="@example.com").exists()
    assert check_ledger().ok


@pytest.mark.django_db
def test_createsuperuser_noinput_with_email(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long staff pass phrase")

    call_command("createsuperuser", "--noinput", "--email", "Boss@Example.com", verbosity=0)

    boss = User.objects.get(email="boss@example.com")
    assert boss.is_staff and boss.is_superuser
    assert boss.check_password("a long staff pass phrase")


def test_dockerfile_runs_the_entrypoint_and_gunicorn_config():
    text = (ROOT / "Dockerfile").read_text()

    assert "pip install --require-hashes" in text
    assert 'ENTRYPOINT ["/app/docker/entrypoint.sh"]' in text
    assert "bankproject/gunicorn.conf.py" in text
    assert "USER bank" in text


def test_compose_wires_postgres_redis_and_production_mode():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    web = compose["services"]["web"]

    assert {"db", "redis", "web"} <= set(compose["services"])
    assert web["environment"]["DJANGO_ENV"] == "production"
    assert web["environment"]["DATABASE_URL"].startswith("postgres://")
    assert web["environment"]["REDIS_URL"].startswith("redis://")
    assert set(web["depends_on"]) == {"db", "redis"}


def test_entrypoint_migrates_then_runs_the_command(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(VAR_DIR=str(tmp_path), PYTHON=sys.executable)

    result = subprocess.run(
        [
            "sh",
            str(ROOT / "docker" / "entrypoint.sh"),
            sys.executable,
            "manage.py",
            "showmigrations",
            "--plan",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    assert "[X]  accounts.0001_initial" in result.stdout
    assert (tmp_path / "bank.sqlite3").exists()
