"""core.money: the one parser for JSON minor units and the one for decimal text."""

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.currencies import EXPONENTS, to_major
from core.money import MAX_AMOUNT, AmountError, minor_units, parse_amount

QUICK = settings(deadline=None, derandomize=True, database=None, print_blob=False)


# --- minor_units ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1, 12550, MAX_AMOUNT - 1])
def test_minor_units_takes_a_positive_integer_below_the_maximum(value):
    assert minor_units(value) == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "whole number"),
        (False, "whole number"),
        (1.5, "whole number"),
        (1.0, "whole number"),
        ("15", "whole number"),
        (None, "whole number"),
        ([100], "whole number"),
        (0, "positive"),
        (-1, "positive"),
        (MAX_AMOUNT, "less than"),
        (10**30, "less than"),
    ],
    ids=repr,
)
def test_minor_units_refuses_anything_else_with_a_reason(value, message):
    with pytest.raises(AmountError, match=message):
        minor_units(value)


def test_amount_error_is_a_value_error():
    assert issubclass(AmountError, ValueError)


# --- parse_amount -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [
        ("125.50", "EUR", 12550),
        ("125.5", "EUR", 12550),
        ("125", "EUR", 12500),
        ("0.01", "EUR", 1),
        (".5", "EUR", 50),
        ("5.", "EUR", 500),
        ("007", "EUR", 700),
        ("1250", "JPY", 1250),
        ("1.234", "KWD", 1234),
        ("9999999999999.99", "EUR", MAX_AMOUNT - 1),
    ],
)
def test_parse_amount_reads_plain_decimal_text_exactly(text, currency, expected):
    assert parse_amount(text, currency) == expected


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("1.2345", "EUR", "EUR amounts have at most 2 decimal places."),
        ("10.005", "EUR", "EUR amounts have at most 2 decimal places."),
        ("12.5", "JPY", "JPY amounts have no decimal places."),
        ("0", "EUR", "greater than zero"),
        ("0.00", "EUR", "greater than zero"),
        ("-5", "EUR", "greater than zero"),
        ("10000000000000", "EUR", "too large"),
        ("1" + "0" * 39, "EUR", "at most 32 characters"),
        ("1e5", "EUR", "in figures"),
        ("1E5", "EUR", "in figures"),
        ("1e999999", "EUR", "in figures"),
        ("1E999999", "EUR", "in figures"),
        ("NaN", "EUR", "in figures"),
        ("nan", "EUR", "in figures"),
        ("sNaN", "EUR", "in figures"),
        ("Infinity", "EUR", "in figures"),
        ("-Infinity", "EUR", "in figures"),
        ("inf", "EUR", "in figures"),
        ("+12", "EUR", "in figures"),
        ("0x10", "EUR", "in figures"),
        ("1_000", "EUR", "in figures"),
        ("\uff11\uff12", "EUR", "in figures"),  # fullwidth digits
        ("\u0663", "EUR", "in figures"),  # Arabic-Indic three
        ("1.2.3", "EUR", "in figures"),
        (".", "EUR", "in figures"),
        ("", "EUR", "in figures"),
        ("ten", "EUR", "in figures"),
        (" 12", "EUR", "without spaces"),
        ("12 ", "EUR", "without spaces"),
        ("12\u00a0", "EUR", "without spaces"),
        ("1 000", "EUR", "without spaces"),
        ("12,50", "EUR", "without commas"),
        ("1,000.50", "EUR", "without commas"),
        ("12\x00", "EUR", "in figures"),
    ],
    ids=repr,
)
def test_parse_amount_refuses_every_other_notation_with_a_reason(text, currency, message):
    with pytest.raises(AmountError, match=message):
        parse_amount(text, currency)


@pytest.mark.parametrize("value", [None, 12, 12.5, b"12"], ids=repr)
def test_parse_amount_refuses_what_is_not_text(value):
    with pytest.raises(AmountError, match="in figures"):
        parse_amount(value, "EUR")


@pytest.mark.parametrize("text", ["1e999999999", "9" * 1_000_000, "1." + "0" * 1_000_000])
def test_parse_amount_refuses_huge_text_at_once(text):
    started = time.perf_counter()
    with pytest.raises(AmountError):
        parse_amount(text, "EUR")
    assert time.perf_counter() - started < 0.5  # generous: it is microseconds


@QUICK
@given(
    currency=st.sampled_from(sorted(EXPONENTS)),
    amount=st.integers(min_value=1, max_value=MAX_AMOUNT - 1),
)
def test_parse_amount_reads_back_what_to_major_writes(currency, amount):
    assert parse_amount(str(to_major(amount, currency)), currency) == amount


@QUICK
@given(text=st.text(max_size=40), currency=st.sampled_from(sorted(EXPONENTS)))
def test_parse_amount_answers_any_text_with_an_amount_or_an_amount_error(text, currency):
    try:
        amount = parse_amount(text, currency)
    except AmountError:
        return
    assert 1 <= amount < MAX_AMOUNT
    assert minor_units(amount) == amount
