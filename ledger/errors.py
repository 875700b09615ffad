from rest_framework import status

from core.errors import BankError


class InsufficientFundsError(BankError):
    code = "insufficient_funds"
    message = "The account does not have enough money for this."


class AccountInactiveError(BankError):
    code = "account_inactive"
    message = "The account is frozen or closed."


class CurrencyMismatchError(BankError):
    code = "currency_mismatch"
    message = "Both accounts must hold the same currency."


class SameAccountError(BankError):
    code = "same_account"
    message = "Money cannot be moved from an account to itself."


class BalanceNotZeroError(BankError):
    code = "balance_not_zero"
    message = "Only an account with a zero balance can be closed."


class AlreadyReversedError(BankError):
    code = "already_reversed"
    message = "This transaction has already been reversed."


class NotReversibleError(BankError):
    code = "not_reversible"
    message = "A reversal cannot itself be reversed; post a new transaction."


class IdempotencyConflictError(BankError):
    code = "idempotency_conflict"
    http_status = status.HTTP_409_CONFLICT
    message = "This Idempotency-Key was already used with a different request."


class OwnAccountError(BankError):
    """A staff action on an account the staff member holds: nobody moves money into or out of
    their own account, or changes its status, through the bank's back door."""

    code = "permission_denied"
    http_status = status.HTTP_403_FORBIDDEN
    message = "Nobody may do a staff action on an account they hold."


class OwnRequestError(BankError):
    """Four eyes: the person who asked for a movement above the limit cannot approve it."""

    code = "own_request"
    message = "An approval request is decided by someone other than the person who made it."


class ApprovalClosedError(BankError):
    code = "approval_closed"
    message = "This approval request is no longer pending: it was decided or has expired."
