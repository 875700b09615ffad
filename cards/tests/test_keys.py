"""The card number and the two keyed HMACs (cards/keys.py)."""

import pytest

from cards import keys
from cards.models import Card
from cards.services import verify_card
from cards.tests.factories import issued_card

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("pan", ["4000000000000002", "4111111111111111", "5555555555554444"])
def test_luhn_accepts_real_test_numbers(pan):
    assert keys.luhn_valid(pan)
    assert not keys.luhn_valid(pan[:-1] + str((int(pan[-1]) + 1) % 10))


def test_new_pans_are_sixteen_digits_in_the_banks_bin_with_a_luhn_digit(settings):
    settings.CARD_BIN = "412345"
    pans = {keys.new_pan() for _ in range(200)}

    assert len(pans) == 200  # drawn, not counted
    for pan in pans:
        assert len(pan) == 16 and pan.startswith("412345") and keys.luhn_valid(pan)


def test_the_fingerprint_is_keyed(settings):
    pan = keys.new_pan()
    settings.CARD_PAN_KEYS = {"a": "x" * 32, "b": "y" * 32}

    assert keys.fingerprint(pan, "a") != keys.fingerprint(pan, "b")
    assert len(keys.fingerprint(pan, "a")) == 64 and pan not in keys.fingerprint(pan, "a")


def test_the_cvc_is_three_digits_derived_from_pan_and_expiry_under_its_own_key(settings):
    pan = keys.new_pan()
    cvc = keys.cvc_for(pan, 3, 2030)

    assert len(cvc) == 3 and cvc.isdigit()
    assert keys.cvc_for(pan, 3, 2030) == cvc
    assert keys.cvc_matches(pan, 3, 2030, cvc)
    others = {keys.cvc_for(pan, month, 2030) for month in range(1, 13)}
    assert len(others) > 1  # the expiry is part of it
    settings.CARD_CVC_KEY = "another cvc key, at least 32 characters"
    assert keys.cvc_for(pan, 3, 2030) != cvc or keys.cvc_for(pan, 4, 2030) != keys.cvc_for(
        pan, 4, 2030
    )


def test_a_card_issued_under_an_old_key_still_pays_after_rotation(settings):
    settings.CARD_PAN_KEYS = {"old": "o" * 40}
    issued = issued_card()
    settings.CARD_PAN_KEYS = {"new": "n" * 40, "old": "o" * 40}  # the new key is current

    card = verify_card(
        pan=issued.pan,
        expiry_month=issued.card.expiry_month,
        expiry_year=issued.card.expiry_year,
        cvc=issued.cvc,
    )

    assert card.pk == issued.card.pk and card.key_id == "old"
    assert issued_card().card.key_id == "new"
    assert Card.objects.count() == 2
