import json

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import ValidationFailed
from core.schema import bank_errors
from core.viewset_pages import PageMixin
from ledger.serializers import AccountOutput
from statements import services
from statements.documents import filename
from statements.models import Statement
from statements.renderers import StatementCSVRenderer, StatementPDFRenderer
from statements.selectors import (
    ISSUED,
    OPEN,
    StatementView,
    issued_statement,
    period_get,
    periods_for,
    statement_account_get,
    statement_content,
)
from statements.serializers import PeriodOutput, StatementOutput

FORMATS = ["json", "csv", "pdf"]


class StatementNegotiation(DefaultContentNegotiation):
    """`?format=` other than the action's own (json; csv and pdf for one statement) is answered
    in JSON and refused by the action as a 400 on `format`, after the login and the account
    are checked (so a stranger's account is still a 404), never DRF's bare 404."""

    def select_renderer(self, request, renderers, format_suffix=None):
        override = self.settings.URL_FORMAT_OVERRIDE
        wanted = format_suffix or request.query_params.get(override)
        asked = format_suffix is not None or override in request.query_params  # even empty
        if asked and wanted not in {renderer.format for renderer in renderers}:
            offered = ", ".join(renderer.format for renderer in renderers)
            request.format_refusal = ValidationFailed({"format": [f"Use one of: {offered}."]})
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)


PERIOD_PATH = OpenApiParameter(
    "period",
    {"type": "string", "pattern": r"^[0-9]{4}-(0[1-9]|1[0-2])$"},
    location=OpenApiParameter.PATH,
    description="A UTC calendar month, YYYY-MM. Malformed (2026-13, 2026-1) is a 400; before "
    "the account opened or after the current month a 404.",
)


@extend_schema(tags=["statements"])
class StatementViewSet(PageMixin, viewsets.GenericViewSet):
    """An account's monthly statements. The object these URLs name is the account (`pk`, as
    the ledger's router names it, so the pages' `id` maps onto it); `period` picks the month."""

    lookup_url_kwarg = "pk"
    content_negotiation_class = StatementNegotiation
    filter_backends: list = []

    def initial(self, request, *args, **kwargs):
        self.now = timezone.now()  # one "current month" for the whole request
        super().initial(request, *args, **kwargs)

    def get_renderers(self):
        if self.is_page or self.action != "retrieve":
            return super().get_renderers()
        return [JSONRenderer(), StatementCSVRenderer(), StatementPDFRenderer()]

    def get_queryset(self):
        return Statement.objects.none()  # statements are read through the selectors

    def get_object(self):
        account = statement_account_get(user=self.request.user, id=self.kwargs["pk"])
        if refusal := getattr(self.request, "format_refusal", None):
            raise refusal
        return account

    def finalize_response(self, request, response, *args, **kwargs):
        """Errors are the JSON envelope in every format (API.md)."""
        if not self.is_page and isinstance(response, Response) and response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def page_context(self, data: dict) -> dict:
        account = self.get_object()
        context = {"account": AccountOutput(account).data}
        if self.action == "retrieve":
            api = reverse("api:account-statement", args=[account.pk, data["period"]])
            context.update(csv_url=f"{api}?format=csv", pdf_url=f"{api}?format=pdf")
        return context

    @extend_schema(
        responses={200: PeriodOutput(many=True)},
        summary="An account's statement months, newest first",
    )
    def list(self, request: Request, pk=None) -> Response:
        account = self.get_object()
        page = self.paginate_queryset(periods_for(account, now=self.now))
        return self.get_paginated_response(PeriodOutput(page, many=True).data)

    @extend_schema(
        parameters=[PERIOD_PATH],
        responses={
            (200, "application/json"): StatementOutput,
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="A header row and one row per entry, UTF-8."
            ),
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The statement as a PDF document."
            ),
            **bank_errors(
                s400="`validation_error`: a malformed period (`details.period`) or an unknown "
                "`format` (`details.format`)."
            ),
        },
        summary="One month's statement as JSON, CSV (?format=csv) or PDF (?format=pdf)",
    )
    def retrieve(self, request: Request, pk=None, period=None) -> Response:
        account = self.get_object()
        month = period_get(account, period, now=self.now)
        if month.is_open(self.now):
            self.statement = StatementView(statement_content(account, month), OPEN)
        else:
            issued = issued_statement(account, month)
            if issued is None:
                issued, _ = services.issue_statement(account=account, period=month)
            self.statement = StatementView(
                json.loads(issued.content), ISSUED, issued.sha256, issued.issued_at
            )
        response = Response(StatementOutput(self.statement).data)
        chosen = getattr(request, "accepted_renderer", None)
        if not self.is_page and chosen is not None and chosen.format in ("csv", "pdf"):
            name = filename(self.statement.content, chosen.format)
            response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
