from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import Output
from ledger.serializers import EntryOutput
from statements.selectors import PeriodRow, StatementView


class PeriodOutput(Output):
    period = serializers.CharField(help_text="YYYY-MM, a UTC calendar month.")
    period_start = serializers.DateField()
    period_end = serializers.DateField(help_text="The month's last day, inclusive.")
    status = serializers.ChoiceField(
        choices=["open", "issued"],
        help_text="`open`: the current month, computed live; `issued`: a past month, fixed.",
    )

    def to_representation(self, row: PeriodRow) -> dict:
        return {
            "period": str(row.period),
            "period_start": row.period.first_day.isoformat(),
            "period_end": row.period.last_day.isoformat(),
            "status": row.status,
        }


@extend_schema_field(EntryOutput(many=True))
class EntriesField(serializers.ReadOnlyField):
    """The month's entries in posting order, as the history API gives them."""


class StatementOutput(Output):
    """A statement: opening + total_credits - total_debits == closing, always."""

    account = serializers.UUIDField()
    period = serializers.CharField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    status = serializers.ChoiceField(choices=["open", "issued"])
    currency = serializers.CharField()
    opening_balance = serializers.IntegerField()
    closing_balance = serializers.IntegerField()
    total_credits = serializers.IntegerField(min_value=0)
    total_debits = serializers.IntegerField(min_value=0)
    entry_count = serializers.IntegerField(min_value=0)
    sha256 = serializers.CharField(
        allow_null=True, help_text="SHA-256 of the canonical content, once issued."
    )
    issued_at = serializers.DateTimeField(allow_null=True)
    entries = EntriesField()

    def to_representation(self, statement: StatementView) -> dict:
        content = statement.content
        body = {name: content[name] for name in self.fields if name in content}
        body.update(
            status=statement.status,
            sha256=statement.sha256,
            issued_at=self.fields["issued_at"].to_representation(statement.issued_at)
            if statement.issued_at
            else None,
        )
        return {name: body[name] for name in self.fields}
