"""The cards services' own rules, below the API and the pages."""

import pytest

from audit.models import AuditRecord
from cards import keys, services
from cards.errors import CardInactiveError
from cards.models import Card
from cards.tests.factories import issued_card
from conftest import staff_member
from core.errors import ValidationFailed
from ledger.errors import OwnAccountError
from ledger.tests.factories import account_for

pytestmark = pytest.mark.django_db


def test_a_drawn_number_already_in_use_is_drawn_again(monkeypatch):
    first = issued_card()
    fresh = keys.new_pan()
    drawn = iter([first.pan, fresh])
    monkeypatch.setattr(keys, "new_pan", lambda: next(drawn))

    second = issued_card()

    assert second.pan == fresh and Card.objects.count() == 2


def test_a_number_under_an_older_key_is_taken_too(monkeypatch, settings):
    settings.CARD_PAN_KEYS = {"old": "o" * 40}
    first = issued_card()
    settings.CARD_PAN_KEYS = {"new": "n" * 40, "old": "o" * 40}
    fresh = keys.new_pan()
    drawn = iter([first.pan, fresh])
    monkeypatch.setattr(keys, "new_pan", lambda: next(drawn))

    assert issued_card().pan == fresh


def test_the_staff_freeze_needs_a_reason():
    issued = issued_card()

    with pytest.raises(ValidationFailed):
        services.staff_freeze_card(card=issued.card, reason=" ", by=staff_member("back office"))
    assert Card.objects.get().status == "active"


def test_nobody_freezes_a_card_on_their_own_account():
    staff = staff_member("back office")
    own = issued_card(account_for(staff, amount=1_000))

    with pytest.raises(OwnAccountError):
        services.staff_freeze_card(card=own.card, reason="mine", by=staff)
    assert Card.objects.get().status == "active"


def test_the_staff_freeze_of_a_cancelled_card_is_refused_and_not_audited():
    issued = issued_card()
    services.cancel_card(card=issued.card)

    with pytest.raises(CardInactiveError):
        services.staff_freeze_card(card=issued.card, reason="late", by=None)
    assert not AuditRecord.objects.filter(target_type="card").exists()


def test_the_bank_itself_may_freeze_and_is_audited_without_an_actor():
    issued = issued_card()

    services.staff_freeze_card(card=issued.card, reason="fraud screening", by=None)

    record = AuditRecord.objects.get(target_type="card")
    assert record.actor is None and record.details["to_status"] == "frozen"


def test_the_service_refuses_a_limit_the_api_would(settings):
    issued = issued_card()
    for bad in (0, -1, settings.CARD_DAILY_LIMIT_MAX + 1, True, 1.5):
        with pytest.raises(ValidationFailed):
            services.set_daily_limit(card=issued.card, daily_limit=bad)
