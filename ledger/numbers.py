"""Account numbers: ten digits, the last two an ISO 7064 MOD 97-10 check (as in IBANs), so a
mistyped digit or two swapped digits are caught before any lookup."""

import secrets

LENGTH = 10
MAX_TYPED_LENGTH = 34  # what a person may type: the digits with spaces and dashes, as an IBAN
INVALID = "This is not a valid account number: check the digits."


class AccountNumberError(ValueError):
    """A typed account number that cannot be one of ours; `str(error)` says so."""


def check_digits(body: str) -> str:
    return f"{98 - (int(body) * 100) % 97:02d}"


def new_account_number() -> str:
    body = f"{secrets.randbelow(90_000_000) + 10_000_000}"  # 8 digits, no leading zero
    return body + check_digits(body)


def is_valid_account_number(number: str) -> bool:
    # isascii: "²" and "٣" are isdigit() too; the first makes int() raise, the second would
    # pass the check and then match no stored number.
    return len(number) == LENGTH and number.isascii() and number.isdigit() and int(number) % 97 == 1


def normalize_account_number(raw: str) -> str:
    """People type spaces and dashes ("1234 5678 90"); the number is the digits."""
    return "".join(ch for ch in raw if not ch.isspace() and ch != "-")


def format_account_number(number: str) -> str:
    return f"{number[:4]} {number[4:8]} {number[8:]}"


def validate_account_number(raw: str) -> str:
    """A payee's number as typed -> its ten digits, or AccountNumberError. The one rule the API
    serializer and the portal form both apply before any lookup."""
    if not isinstance(raw, str) or len(raw) > MAX_TYPED_LENGTH:
        raise AccountNumberError(INVALID)
    number = normalize_account_number(raw)
    if not is_valid_account_number(number):
        raise AccountNumberError(INVALID)
    return number
