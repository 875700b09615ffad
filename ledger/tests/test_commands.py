from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from ledger.models import IdempotencyKey

pytestmark = pytest.mark.django_db


def make_key(age: timedelta, key: str) -> IdempotencyKey:
    return IdempotencyKey.objects.create(
        scope="user:x", key=key, fingerprint="f", created_at=timezone.now() - age
    )


def test_purge_idempotency_keys_is_a_dry_run_by_default():
    make_key(timedelta(days=2), "old")
    out = StringIO()

    call_command("purge_idempotency_keys", stdout=out)

    assert "would delete 1" in out.getvalue()
    assert IdempotencyKey.objects.count() == 1


def test_purge_idempotency_keys_keeps_keys_younger_than_the_retention():
    make_key(timedelta(days=2), "old")
    make_key(timedelta(hours=23), "recent")

    call_command("purge_idempotency_keys", "--commit", stdout=StringIO())

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["recent"]
