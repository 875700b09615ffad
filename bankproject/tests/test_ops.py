"""Ops: the seed and createsuperuser (the container files and bin/start: test_deploy.py)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from ledger.checks import check_ledger
from ledger.models import Account, Entry


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
