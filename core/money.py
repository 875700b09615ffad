"""The two ways an amount enters the bank, each parsed here and nowhere else.

- `minor_units`: a JSON integer of minor units (the API, and the services' own guard).
- `parse_amount`: decimal text in a currency, as a person types it (the portal, the admin).

Both return a positive int below `MAX_AMOUNT` or raise `AmountError` with a message fit to
show beside the field. Text is checked for length and shape before any number is made of it,
and never goes through `Decimal` or `float`: "1e999999" would otherwise become a million-digit
integer (seconds of CPU per request), and "NaN", "Infinity" or "1e5" are no way to write money.
"""

import re

from core.currencies import exponent

MAX_AMOUNT = 10**15  # minor units; anything larger is a typo, and stays far from BIGINT
MAX_AMOUNT_TEXT = 32  # characters of decimal text; MAX_AMOUNT needs at most 19 with a dot

# Plain ASCII digits with an optional dot: "125", "125.5", "125.50", ".5", "5.".
_DECIMAL = re.compile(r"(?P<units>[0-9]*)(?:\.(?P<fraction>[0-9]*))?")

WHOLE_NUMBER = "Send a whole number of minor units (cents), e.g. 12550 for 125.50."
NOT_POSITIVE = "Must be a positive whole number, greater than zero."
OVER_MAX = f"Must be less than {MAX_AMOUNT}."

IN_FIGURES = "Enter an amount in figures, such as 125.50."
NO_COMMAS = "Write the amount without commas, with a dot for the decimals, such as 1250.50."
NO_SPACES = "Enter the amount without spaces, such as 125.50."
ABOVE_ZERO = "Enter an amount greater than zero."
TOO_LONG = f"Enter at most {MAX_AMOUNT_TEXT} characters, such as 125.50."
TOO_LARGE = "This amount is too large."


class AmountError(ValueError):
    """An amount the bank will not take; `str(error)` says why, in words for the sender."""


def minor_units(value: object) -> int:
    """A JSON integer of minor units, 1 .. MAX_AMOUNT - 1. Refuses bools (True is an int in
    Python), floats (1.5 and 1.0 alike), strings ("15"), zero, negatives and absurd sizes:
    money is never guessed at."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise AmountError(WHOLE_NUMBER)
    if value <= 0:
        raise AmountError(NOT_POSITIVE)
    if value >= MAX_AMOUNT:
        raise AmountError(OVER_MAX)
    return value


def parse_amount(text: str, currency: str) -> int:
    """Decimal text in `currency` -> minor units: "125.50", "EUR" -> 12550; "1250", "JPY" ->
    1250. Plain digits and at most one dot, at most the currency's decimals, no sign, no
    exponent, no spaces, no thousands separator; exact (no rounding)."""
    places = exponent(currency)
    if not isinstance(text, str):
        raise AmountError(IN_FIGURES)
    if len(text) > MAX_AMOUNT_TEXT:  # before anything else looks at it
        raise AmountError(TOO_LONG)
    if (match := _figures(text)) is None:
        raise AmountError(_why_not_figures(text))
    fraction = match["fraction"] or ""
    if len(fraction) > places:
        raise AmountError(
            f"{currency} amounts have at most {places} decimal places."
            if places
            else f"{currency} amounts have no decimal places."
        )
    amount = int(match["units"] or "0") * 10**places + int(fraction.ljust(places, "0") or "0")
    if amount == 0:
        raise AmountError(ABOVE_ZERO)
    if amount >= MAX_AMOUNT:
        raise AmountError(TOO_LARGE)
    return amount


def _figures(text: str) -> re.Match | None:
    match = _DECIMAL.fullmatch(text)
    return match if match and (match["units"] or match["fraction"]) else None


def _why_not_figures(text: str) -> str:
    """The most helpful message for short text that is not plain figures."""
    if text.startswith("-") and _figures(text[1:]):
        return ABOVE_ZERO
    if _figures("".join(text.split())):  # spaces around or between the figures
        return NO_SPACES
    if "," in text and _figures(text.replace(",", "")):
        return NO_COMMAS
    return IN_FIGURES
