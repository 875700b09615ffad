"""User-scoped reads of cards: a customer reaches only the cards on accounts they hold."""

from uuid import UUID

from django.db.models import QuerySet

from accounts.models import User
from cards.models import Card, CardAuthorization, CardPayment
from core.errors import NotFound
from ledger.models import Account
from ledger.selectors import PendingHold


def cards_for(user: User) -> QuerySet[Card]:
    return Card.objects.held_by(user).order_by("created_at", "id")


def card_get(*, user: User, id: UUID) -> Card:
    if card := cards_for(user).select_related("account").filter(id=id).first():
        return card
    raise NotFound()  # someone else's card does not exist for you


def recent_payments(card: Card, *, limit: int = 20) -> list[CardPayment]:
    """A card's newest payments (the card is already the caller's, from `card_get`)."""
    return list(CardPayment.objects.filter(card=card).order_by("-created_at", "-id")[:limit])


def accounts_to_issue_on(user: User) -> list[Account]:
    """The caller's accounts a card can be issued on: the active ones."""
    return list(
        Account.objects.held_by(user)
        .filter(status=Account.Status.ACTIVE)
        .order_by("created_at", "id")
    )


def pending_holds(account_ids: list[UUID]) -> list[PendingHold]:
    """The open authorisations on these accounts (the caller's own: the ledger's pages pass
    only those), as the ledger's pages list them. Registered in `cards.apps`."""
    rows = CardAuthorization.objects.open().filter(account_id__in=account_ids)
    return [
        PendingHold(
            account_id=hold.account_id,
            merchant=hold.merchant,
            amount=hold.remaining,
            currency=hold.currency,
            since=hold.created_at,
        )
        for hold in rows.order_by("-created_at", "-id")
    ]
