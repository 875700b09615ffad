"""SEED_DEMO in production creates no login with a password published in this repository."""

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from demo.management.commands.seed import DEMO_EMAIL, DEMO_PASSWORD, STAFF_LOGIN, STAFF_PASSWORD

pytestmark = pytest.mark.django_db

STAFF_EMAIL = STAFF_LOGIN[0]


def seed() -> str:
    out = io.StringIO()
    call_command("seed", "--users", "1", "--allow-production", verbosity=0, stdout=out)
    return out.getvalue()


@pytest.fixture
def production(settings, monkeypatch):
    settings.PRODUCTION = True
    monkeypatch.delenv("SEED_STAFF_PASSWORD", raising=False)
    monkeypatch.delenv("SEED_DEMO_PASSWORD", raising=False)
    return monkeypatch


def test_in_production_no_login_gets_a_published_password(production):
    out = seed()

    staff = User.objects.get(email=STAFF_EMAIL)
    demo = User.objects.get(email=DEMO_EMAIL)
    assert not staff.check_password(STAFF_PASSWORD)
    assert not demo.check_password(DEMO_PASSWORD)
    assert STAFF_PASSWORD not in out and DEMO_PASSWORD not in out


def test_in_production_a_generated_password_is_printed_once_and_works(production):
    out = seed()

    staff_line = next(line for line in out.splitlines() if STAFF_EMAIL in line)
    password = staff_line.rsplit("/", 1)[1].strip()
    assert len(password) >= 20
    assert User.objects.get(email=STAFF_EMAIL).check_password(password)
    assert "No new logins" not in out
    assert password not in seed()  # a second run creates nothing and shows nothing


def test_in_production_the_operators_passwords_are_used_and_not_printed(production):
    production.setenv("SEED_STAFF_PASSWORD", "an operator's long passphrase 7")
    production.setenv("SEED_DEMO_PASSWORD", "a customer's long passphrase 8")

    out = seed()

    assert User.objects.get(email=STAFF_EMAIL).check_password("an operator's long passphrase 7")
    assert User.objects.get(email=DEMO_EMAIL).check_password("a customer's long passphrase 8")
    assert "passphrase" not in out


@pytest.mark.parametrize("password", [STAFF_PASSWORD, "short", "password123"])
def test_in_production_a_published_or_weak_password_is_refused(production, password):
    production.setenv("SEED_STAFF_PASSWORD", password)

    with pytest.raises(CommandError):
        seed()
    assert not User.objects.filter(email=STAFF_EMAIL).exists()


def test_the_local_demo_keeps_its_published_logins(settings):
    settings.PRODUCTION = False

    seed()

    assert User.objects.get(email=STAFF_EMAIL).check_password(STAFF_PASSWORD)
    assert User.objects.get(email=DEMO_EMAIL).check_password(DEMO_PASSWORD)
