"""{% load statement_tags %} {{ period_start|date_of|date:"F Y" }}: an ISO date as a date."""

from datetime import date

from django import template
from django.utils.dateparse import parse_date

register = template.Library()


@register.filter
def date_of(value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return parse_date(value)
    except ValueError:
        return None
