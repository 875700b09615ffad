"""Template filters for the portal: money and account numbers, formatted in one place (the
ledger's library: account numbers are the ledger's; the currencies table is the kernel's).

{% load bank %}
{{ account.balance|money:account.currency }}      EUR 1,250.00
{{ entry.amount|signed_money:entry.currency }}    +EUR 125.50 / (minus) EUR 12.00
{{ account.number|account_number }}               1234 5678 90
{{ row.created_at|as_datetime|date:"j M Y" }}      a serializer's ISO 8601 text, as a datetime
{{ row.kind|kind_label }}                          card_payment -> Card Payment
"""

from datetime import datetime

from django import template
from django.utils.dateparse import parse_datetime

from core.currencies import format_money, to_major
from ledger.models import Transaction
from ledger.numbers import format_account_number

register = template.Library()

MINUS = "\u2212"  # a typographic minus, as wide as the plus in tabular figures


@register.filter
def money(amount: int | None, currency: str) -> str:
    if amount is None or not currency:
        return ""
    return format_money(int(amount), currency)


@register.filter
def signed_money(amount: int | None, currency: str) -> str:
    """A credit with a plus, a debit with a minus sign."""
    if amount is None or not currency:
        return ""
    amount = int(amount)
    sign = "+" if amount > 0 else MINUS if amount < 0 else ""
    return f"{sign}{format_money(abs(amount), currency)}"


@register.filter
def negate(amount: int | None) -> int | None:
    """A transfer's amount is unsigned in the API; sent money is shown as a debit."""
    return None if amount is None else -int(amount)


@register.filter
def major(amount: int | None, currency: str) -> str:
    """12550, "EUR" -> "125.50": a minor-unit amount as a person types it in a form."""
    if amount is None or not currency:
        return ""
    return str(to_major(int(amount), currency))


@register.filter
def account_number(number: str | None) -> str:
    return format_account_number(number) if number else ""


@register.filter
def as_datetime(value: str | datetime | None) -> datetime | None:
    """A serializer gives times as ISO 8601 text; `date` and `time` format datetimes."""
    if value is None or isinstance(value, datetime):
        return value
    try:
        return parse_datetime(value)
    except ValueError:
        return None


@register.filter
def kind_label(kind: str | None) -> str:
    """A transaction's `kind` as the API gives it, as a person reads it."""
    if kind in Transaction.Kind.values:
        return Transaction.Kind(kind).label
    return kind or ""
