"""ISO 4217: the currencies the bank holds and their minor-unit exponents.

Our own small table, because libraries disagree with ISO on some exponents (e.g. ISK, HUF).
Amounts are integers in minor units: 12550 EUR is EUR 125.50; 1250 JPY is JPY 1,250.
"""

from decimal import Decimal

EXPONENTS: dict[str, int] = {
    "EUR": 2,
    "USD": 2,
    "GBP": 2,
    "CHF": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "PLN": 2,
    "CZK": 2,
    "HUF": 2,
    "CAD": 2,
    "AUD": 2,
    "JPY": 0,
    "ISK": 0,
    "KRW": 0,
    "KWD": 3,
    "BHD": 3,
    "JOD": 3,
}
CURRENCY_CHOICES = [(code, code) for code in sorted(EXPONENTS)]


def exponent(currency: str) -> int:
    return EXPONENTS[currency]


def to_major(amount: int, currency: str) -> Decimal:
    """12550, "EUR" -> Decimal("125.50"); only at the edges (pages, CSV, PDF)."""
    places = exponent(currency)
    return (Decimal(amount) / (Decimal(10) ** places)).quantize(Decimal(1).scaleb(-places))


def format_money(amount: int, currency: str) -> str:
    """12550, "EUR" -> "EUR 125.50"; -123456789, "EUR" -> "-EUR 1,234,567.89"."""
    places = exponent(currency)
    major = to_major(abs(amount), currency)
    sign = "-" if amount < 0 else ""
    return f"{sign}{currency} {major:,.{places}f}"
