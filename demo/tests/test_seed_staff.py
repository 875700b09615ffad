"""The demo's staff login shows the staff roles, not a superuser's everything."""

import re

import pytest
from django.core.management import call_command

from accounts.models import User
from audit.models import AuditRecord
from demo.management.commands.seed import STAFF_LOGIN, STAFF_ROLES
from ledger.permissions import STAFF_ACTION_PERMISSIONS, may

pytestmark = pytest.mark.django_db


def test_seed_staff_holds_every_role_and_is_no_superuser():
    call_command("seed", "--users", "1", verbosity=0)

    staff = User.objects.get(email=STAFF_LOGIN[0])
    assert staff.is_staff and not staff.is_superuser
    assert set(staff.groups.values_list("name", flat=True)) == set(STAFF_ROLES)
    assert all(may(staff, action) for action in STAFF_ACTION_PERMISSIONS)


def test_seed_gives_an_existing_staff_login_its_roles():
    User.objects.create_user(STAFF_LOGIN[0], "an older demo password", is_staff=True)

    call_command("seed", "--users", "1", verbosity=0)

    staff = User.objects.get(email=STAFF_LOGIN[0])
    assert set(staff.groups.values_list("name", flat=True)) == set(STAFF_ROLES)


def test_seed_history_leaves_an_audit_record_per_cash_movement():
    call_command("seed", "--users", "2", verbosity=0)

    staff = User.objects.get(email=STAFF_LOGIN[0])
    assert AuditRecord.objects.filter(action="deposit", actor=None).exists()  # wires in
    assert AuditRecord.objects.filter(action="deposit", actor=staff).exists()  # the counter


def test_seed_issues_the_demo_login_a_card_and_prints_no_number(capsys):
    from cards.models import Card
    from demo.management.commands.seed import DEMO_EMAIL

    call_command("seed", "--users", "1", verbosity=1)
    cards = set(Card.objects.values_list("pk", flat=True))
    call_command("seed", "--users", "1", verbosity=1)  # idempotent

    assert set(Card.objects.values_list("pk", flat=True)) == cards
    demo = Card.objects.filter(account__holder__user__email=DEMO_EMAIL, account__type="checking")
    assert demo.exists()  # on their everyday account (and their travel account, if any)
    out = capsys.readouterr().out
    assert not re.search(r"\d{12,19}", out)  # no card number
