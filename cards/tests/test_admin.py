"""Cards in the admin: masked, searchable by last four digits and holder, read-only; back
office freezes a card with a reason, audited, never one on their own account."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from audit.models import AuditRecord
from cards.models import Card
from cards.tests.factories import authorize, card_for, issued_card, pay
from conftest import signed_in, staff_member
from ledger.tests.factories import account_for

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:cards_card_changelist"


def freeze(client, cards, reason="Reported stolen by phone"):
    return client.post(
        reverse(CHANGELIST),
        {
            "action": "freeze_selected",
            ACTION_CHECKBOX_NAME: [str(c.card.pk) for c in cards],
            "apply": "1",
            "reason": reason,
        },
    )


def test_cards_are_listed_masked_and_found_by_last4_and_holder(customer):
    mine, other = card_for(customer), issued_card()
    pay(mine)
    client = signed_in(staff_member("back office"))

    listed = client.get(reverse(CHANGELIST)).content.decode()
    by_last4 = client.get(reverse(CHANGELIST), {"q": mine.card.last4}).content.decode()
    by_email = client.get(reverse(CHANGELIST), {"q": customer.email}).content.decode()

    assert f"•••• •••• •••• {mine.card.last4}" in listed
    assert mine.pan not in listed and other.pan not in listed
    assert customer.email in by_last4 or mine.card.last4 == other.card.last4
    assert f"•••• {mine.card.last4}" in by_email
    assert f"•••• {other.card.last4}" not in by_email or mine.card.last4 == other.card.last4
    detail = client.get(reverse("admin:cards_card_change", args=[mine.card.pk])).content
    assert mine.pan.encode() not in detail and mine.card.fingerprint.encode() not in detail
    payments = client.get(reverse("admin:cards_cardpayment_changelist")).content.decode()
    assert "Corner Coffee" in payments and mine.pan not in payments


def test_back_office_freezes_a_card_with_a_reason_and_it_is_audited():
    issued = issued_card()
    staff = staff_member("back office")

    response = freeze(signed_in(staff), [issued])

    assert response.status_code == 302
    assert Card.objects.get().status == "frozen"
    record = AuditRecord.objects.get(target_type="card")
    assert (record.actor, record.action, record.target_type) == (staff, "freeze", "card")
    assert record.target_id == issued.card.pk and record.reason == "Reported stolen by phone"
    assert issued.pan not in str(record.__dict__)
    assert issued.card.account.status == "active"  # the account is not touched


def test_a_freeze_without_a_reason_asks_for_one():
    issued = issued_card()

    response = freeze(signed_in(staff_member("back office")), [issued], reason="")

    assert response.status_code == 200 and response.context["form"].errors["reason"]
    assert (
        Card.objects.get().status == "active"
        and not AuditRecord.objects.filter(target_type="card").exists()
    )


def test_nobody_freezes_a_card_on_their_own_account_from_the_admin():
    staff = staff_member("back office")
    own = issued_card(account_for(staff, amount=1_000))

    freeze(signed_in(staff), [own])

    assert (
        Card.objects.get().status == "active"
        and not AuditRecord.objects.filter(target_type="card").exists()
    )


@pytest.mark.parametrize("role", ["teller", "approver", "auditor"])
def test_only_back_office_is_offered_the_freeze(role):
    issued = issued_card()
    client = signed_in(staff_member(role))

    page = client.get(reverse(CHANGELIST))
    freeze(client, [issued])

    if page.status_code == 200:
        form = page.context["action_form"]
        assert form is None or "freeze_selected" not in dict(form.fields["action"].choices)
    assert Card.objects.get().status == "active"


def test_the_auditor_reads_cards_and_payments_and_changes_nothing():
    issued = issued_card()
    client = signed_in(staff_member("auditor"))

    assert client.get(reverse(CHANGELIST)).status_code == 200
    assert client.get(reverse("admin:cards_cardpayment_changelist")).status_code == 200
    assert client.get(reverse("admin:cards_card_add")).status_code == 403
    assert client.post(reverse("admin:cards_card_delete", args=[issued.card.pk])).status_code == 403


def test_a_customer_cannot_reach_the_cards_admin(browser):
    response = browser.get(reverse(CHANGELIST))

    assert response.status_code == 302 and "/admin/login/" in response.url


@pytest.mark.parametrize("role", ["back office", "auditor"])
def test_holds_are_listed_read_only_for_back_office_and_the_auditor(role):
    issued = issued_card()
    hold = authorize(issued, amount=2_500, merchant="Grand Hotel")
    client = signed_in(staff_member(role))

    listed = client.get(reverse("admin:cards_cardauthorization_changelist")).content.decode()
    detail = client.get(reverse("admin:cards_cardauthorization_change", args=[hold.pk]))

    assert "Grand Hotel" in listed and "25.00" in listed and issued.pan not in listed
    assert detail.status_code == 200 and issued.pan.encode() not in detail.content
    assert client.post(reverse("admin:cards_cardauthorization_add")).status_code == 403
