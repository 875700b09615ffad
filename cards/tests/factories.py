"""Cards for tests, issued through the service (the only way a card gets a number), and the
helpers that pay with them."""

from cards import services
from cards.services import IssuedCard
from ledger.tests.factories import account_for, funded_account

PAYMENTS = "/api/v1/card-payments/"
CARDS = "/api/v1/cards/"


def issued_card(account=None, *, amount: int = 100_000, **kw) -> IssuedCard:
    """A card on `account` (or on a new account holding `amount`)."""
    account = account or funded_account(amount)
    return services.issue_card(owner=account.holder.user, account_id=account.pk, **kw)


def card_for(user, *, amount: int = 100_000, **kw) -> IssuedCard:
    return issued_card(account_for(user, amount=amount), **kw)


def card_data(issued: IssuedCard, **overrides) -> dict:
    """What a merchant sends: the card data, and a payment."""
    data = {
        "pan": issued.pan,
        "expiry_month": issued.card.expiry_month,
        "expiry_year": issued.card.expiry_year,
        "cvc": issued.cvc,
        "amount": 1_250,
        "merchant": "Corner Coffee",
    }
    data.update(overrides)
    return data


def pay(issued: IssuedCard, **overrides):
    """`services.pay` with the card's data (and any field changed)."""
    return services.pay(**card_data(issued, **overrides))


def wrong_cvc(issued: IssuedCard) -> str:
    return f"{(int(issued.cvc) + 1) % 1000:03d}"


def card_url(card, action: str = "") -> str:
    pk = card.card.pk if isinstance(card, IssuedCard) else card.pk
    return f"{CARDS}{pk}/{action + '/' if action else ''}"


AUTHORIZATIONS = "/api/v1/card-authorizations/"


def credential(issued: IssuedCard, **overrides) -> dict:
    """Only the card data: what a capture or a void sends (and an amount, if given)."""
    data = card_data(issued, **overrides)
    data.pop("merchant")
    if "amount" not in overrides:
        data.pop("amount")
    return data


def authorize(issued: IssuedCard, **overrides):
    """`services.authorize` with the card's data (and any field changed)."""
    return services.authorize(**card_data(issued, **overrides))


def capture(issued: IssuedCard, authorization, **overrides):
    return services.capture(authorization_id=authorization.pk, **credential(issued, **overrides))


def void(issued: IssuedCard, authorization, **overrides):
    return services.void(authorization_id=authorization.pk, **credential(issued, **overrides))
