"""Pagination as API.md gives it: `{"results", "next", "previous"}`, `limit` defaults to 25 and
anything above 100 is served as 100. No COUNT(*): one extra row tells whether there is more."""

from collections import OrderedDict

from rest_framework.exceptions import NotFound
from rest_framework.pagination import BasePagination, CursorPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from core.errors import ValidationFailed

DEFAULT_LIMIT = 25
MAX_LIMIT = 100


def parse_limit(request) -> int:
    raw = request.query_params.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:  # "²".isdigit(), int("²") raises
        raise ValidationFailed({"limit": ["Must be a whole number of at least 1."]})
    return min(int(raw), MAX_LIMIT)


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
        if not (raw_offset.isascii() and raw_offset.isdigit()):
            raise ValidationFailed({"offset": ["Must be a whole number of at least 0."]})
        self.offset = int(raw_offset)
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
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": "Rows per page: 25 by default, at most 100.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": "offset",
                "in": "query",
                "required": False,
                "description": "Rows to skip.",
                "schema": {"type": "integer", "minimum": 0},
            },
        ]


class NewestFirstCursorPagination(CursorPagination):
    """Cursor pagination for growing lists (history, transfers): a page does not shift when
    new rows arrive at the top, unlike an offset."""

    ordering = ("-created_at", "-id")
    page_size = DEFAULT_LIMIT
    page_size_query_param = "limit"
    max_page_size = MAX_LIMIT

    def get_page_size(self, request):
        return parse_limit(request)

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound:  # DRF answers a bad cursor with 404; it is bad input, not a lost row
            raise ValidationFailed({"cursor": ["This cursor is not valid; use `next`."]}) from None

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
