"""Checks on a holder's details, shared by the API's serializer and the portal's form so
that each rule is written once."""

import re
from datetime import date

from django.core.exceptions import ValidationError

PHONE = re.compile(r"^\+?[0-9 ()-]{6,31}$")


def validate_phone(value: str) -> None:
    if value and not PHONE.match(value):
        raise ValidationError("Enter a phone number such as +44 20 7946 0000.")


def validate_date_of_birth(value: date | None) -> None:
    if value is not None and not date(1900, 1, 1) <= value <= date.today():
        raise ValidationError("Enter a date of birth in the past.")
