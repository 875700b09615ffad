"""`?format=csv` and `?format=pdf` of a statement. Errors are never rendered here: the view
answers them as the JSON envelope whatever format was asked for."""

from rest_framework.renderers import BaseRenderer

from statements.documents import statement_csv, statement_pdf
from statements.selectors import StatementView


class StatementCSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return statement_csv(renderer_context["view"].statement.content)


class StatementPDFRenderer(BaseRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        statement: StatementView = renderer_context["view"].statement
        return statement_pdf(
            statement.content, sha256=statement.sha256, issued_at=statement.issued_at
        )
