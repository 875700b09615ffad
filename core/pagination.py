"""Pagination as API.md gives it: `{"results", "next", "previous"}`, `limit` defaults to 25 and
anything above 100 is served as 100. No COUNT(*): one extra row tells whether there is more."""

from collections import OrderedDict
from datetime import UTC, datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import NotFound
from rest_framework.pagination import BasePagination, CursorPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from core.errors import ValidationFailed

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
# Far beyond any list this pagination serves, and far inside what a database takes as an
# OFFSET (an int64 on PostgreSQL, SQLite's INTEGER): a larger number was a 500.
MAX_OFFSET = 1_000_000
BAD_CURSOR = "This cursor is not valid; use `next`."


# The largest `limit` read (more than MAX_LIMIT is served as MAX_LIMIT): a bound, so that a
# number of thousands of digits is a 400 rather than an int() past Python's 4,300-digit limit,
# and so that the schema says how long the value may be.
LARGEST_LIMIT = 10**18 - 1


def parse_limit(request) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    # "²".isdigit(), int("²") raises; the length is checked before int() reads the digits.
    if (
        not (raw.isascii() and raw.isdigit())
        or len(raw.lstrip("0")) > len(str(LARGEST_LIMIT))
        or int(raw) < 1
    ):
        raise ValidationFailed(
            {"limit": [f"Must be a whole number from 1 to {LARGEST_LIMIT} (over {MAX_LIMIT} "
                       f"is served as {MAX_LIMIT})."]}
        )  # fmt: skip
    return min(int(raw), MAX_LIMIT)


LIMIT_PARAMETER = {
    "name": "limit",
    "in": "query",
    "required": False,
    "description": f"Rows per page: {DEFAULT_LIMIT} by default, at most {MAX_LIMIT}.",
    "schema": {"type": "integer", "minimum": 1, "maximum": LARGEST_LIMIT},
}


def _paginated_schema(schema: dict) -> dict:
    return {
        "type": "object",
        "required": ["results", "next", "previous"],
        "properties": {
            "results": schema,
            "next": {"type": "string", "format": "uri", "nullable": True},
            "previous": {"type": "string", "format": "uri", "nullable": True},
        },
    }


class LimitPagination(BasePagination):
    """limit/offset, for short lists (a customer's accounts or cards)."""

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = parse_limit(request)
        raw_offset = request.query_params.get("offset", "0")
        # Length first: int() of over 4,300 digits raises ValueError.
        if not (raw_offset.isascii() and raw_offset.isdigit()) or len(raw_offset) > 7:
            raise ValidationFailed({"offset": [f"Must be a whole number from 0 to {MAX_OFFSET}."]})
        self.offset = int(raw_offset)
        if self.offset > MAX_OFFSET:
            raise ValidationFailed({"offset": [f"Must be a whole number from 0 to {MAX_OFFSET}."]})
        rows = list(queryset[self.offset : self.offset + self.limit + 1])
        self.has_next = len(rows) > self.limit
        return rows[: self.limit]

    def get_paginated_response(self, data):
        url = self.request.build_absolute_uri()
        next_url = (
            replace_query_param(
                replace_query_param(url, "offset", self.offset + self.limit), "limit", self.limit
            )
            if self.has_next
            else None
        )
        if self.offset <= 0:
            previous_url = None
        elif self.offset - self.limit <= 0:
            previous_url = remove_query_param(url, "offset")
        else:
            previous_url = replace_query_param(url, "offset", self.offset - self.limit)
        return Response(
            OrderedDict([("results", data), ("next", next_url), ("previous", previous_url)])
        )

    def get_paginated_response_schema(self, schema):
        return _paginated_schema(schema)

    def get_schema_operation_parameters(self, view):
        return [
            LIMIT_PARAMETER,
            {
                "name": "offset",
                "in": "query",
                "required": False,
                "description": f"Rows to skip, at most {MAX_OFFSET}.",
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
            },
        ]


def _field_at(model, path: str):
    """The model field at the end of an ordering path such as `transaction__created_at`."""
    field = None
    for name in path.split("__"):
        field = model._meta.get_field(name)
        model = field.related_model or model
    return field


class NewestFirstCursorPagination(CursorPagination):
    """Cursor pagination for growing lists (history, transfers): a page does not shift when
    new rows arrive at the top, unlike an offset."""

    ordering = ("-created_at", "-id")
    page_size = DEFAULT_LIMIT
    page_size_query_param = "limit"
    max_page_size = MAX_LIMIT

    def get_page_size(self, request):
        return parse_limit(request)

    def paginate_queryset(self, queryset, request, view=None):
        self._position_field = _field_at(queryset.model, self.ordering[0].lstrip("-"))
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:  # DRF answers a bad cursor with 404; it is bad input, not a lost row
            raise ValidationFailed({"cursor": [BAD_CURSOR]}) from None
        if cursor is not None and cursor.position is not None:
            self._check_position(cursor.position)
        return cursor

    def _check_position(self, position: str) -> None:
        """DRF filters by the cursor's position unchecked, so a forged one (base64 of `p=x`)
        reached the database layer and raised there: a 500. The position must be a value of
        the ordering field, and a time must be aware and convertible to UTC, as DRF writes it."""
        try:
            value = self._position_field.to_python(position)
            if isinstance(value, datetime):
                if value.tzinfo is None:
                    raise ValueError("naive")
                value.astimezone(UTC)
        except (DjangoValidationError, ValueError, TypeError, OverflowError):
            raise ValidationFailed({"cursor": [BAD_CURSOR]}) from None

    def get_paginated_response(self, data):
        return Response(
            OrderedDict(
                [
                    ("results", data),
                    ("next", self.get_next_link()),
                    ("previous", self.get_previous_link()),
                ]
            )
        )

    def get_paginated_response_schema(self, schema):
        return _paginated_schema(schema)

    def get_schema_operation_parameters(self, view):
        """DRF's says `limit` is any integer; `parse_limit` answers 0 with a 400."""
        return [
            {
                "name": self.cursor_query_param,
                "in": "query",
                "required": False,
                "description": "The `next` or `previous` link's cursor.",
                "schema": {"type": "string"},
            },
            LIMIT_PARAMETER,
        ]
