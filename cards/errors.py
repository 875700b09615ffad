from rest_framework import status

from core.errors import BankError


class CardInactiveError(BankError):
    """An action on a cancelled card: cancelling is final."""

    code = "card_inactive"
    message = "This card is cancelled; nothing more can be done with it."


class CardDeclinedError(BankError):
    """A card payment refused: 402 with `details.reason`. Each reason is its own class."""

    code = "card_declined"
    http_status = status.HTTP_402_PAYMENT_REQUIRED
    message = "The card was declined."
    reason = "declined"

    def __init__(self):
        super().__init__(details={"reason": self.reason})


class InvalidCardError(CardDeclinedError):
    """Unknown number, wrong expiry or wrong CVC: one body for all three, on purpose."""

    reason = "invalid_card"


class CardNotActiveError(CardDeclinedError):
    """The card is frozen or cancelled, or its account is frozen or closed."""

    reason = "card_inactive"


class CardExpiredError(CardDeclinedError):
    reason = "card_expired"


class CardInsufficientFundsError(CardDeclinedError):
    reason = "insufficient_funds"


class CardLimitExceededError(CardDeclinedError):
    """Today's (UTC) approved payments of the card and this one exceed its daily limit."""

    reason = "limit_exceeded"


class AuthorizationClosedError(BankError):
    """A capture or void of an authorisation that holds nothing any more: fully captured,
    voided, or expired (past its `expires_at`, released or about to be)."""

    code = "authorization_closed"
    message = "This authorisation is closed: it was captured, voided or expired."
