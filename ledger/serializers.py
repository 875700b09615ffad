from datetime import UTC, datetime, time, timedelta

from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, status

from core.currencies import CURRENCY_CHOICES
from core.errors import ValidationFailed
from core.money import MAX_AMOUNT, AmountError, minor_units
from core.serializers import ModelOutput, Output, StrictSerializer
from ledger.models import Account, Entry, Transaction
from ledger.numbers import MAX_TYPED_LENGTH, AccountNumberError, validate_account_number


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_AMOUNT - 1})
class MinorUnitsField(serializers.Field):
    """A positive whole number of minor units, as `core.money.minor_units` takes it."""

    def to_internal_value(self, data):
        try:
            return minor_units(data)
        except AmountError as error:
            raise serializers.ValidationError(str(error)) from None

    def to_representation(self, value):
        return value


class AccountNumberField(serializers.CharField):
    """A payee's account number: spaces and dashes are ignored; the check digits must hold."""

    def __init__(self, **kwargs):
        super().__init__(max_length=MAX_TYPED_LENGTH, **kwargs)

    def to_internal_value(self, data):
        try:
            return validate_account_number(super().to_internal_value(data))
        except AccountNumberError as error:
            raise serializers.ValidationError(str(error)) from None


# --- accounts ---------------------------------------------------------------------------------


class AccountOutput(ModelOutput):
    class Meta:
        model = Account
        fields = [
            "id",
            "number",
            "type",
            "currency",
            "balance",
            "available_balance",
            "status",
            "nickname",
            "created_at",
        ]
        read_only_fields = fields

    available_balance = serializers.IntegerField(read_only=True)


class AccountCreateInput(StrictSerializer):
    type = serializers.ChoiceField(choices=[Account.Type.CHECKING, Account.Type.SAVINGS])
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES)
    nickname = serializers.CharField(max_length=140, required=False, default="", allow_blank=True)


class AccountPatchInput(StrictSerializer):
    patch_is_partial = False  # the view validates it whole: `nickname` is required
    nickname = serializers.CharField(max_length=140, allow_blank=True)


class StatusChangeInput(StrictSerializer):
    reason = serializers.CharField(max_length=500)


class MoneyInput(StrictSerializer):
    amount = MinorUnitsField()
    description = serializers.CharField(max_length=140)  # why: required on every staff action


# --- history ----------------------------------------------------------------------------------


EARLIEST_BOUND = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_BOUND = datetime(9999, 1, 1, tzinfo=UTC)


def parse_bound(raw: str, field: str, *, end: bool) -> datetime:
    """A date means that whole UTC day; a datetime is taken as given (UTC if naive)."""
    try:  # both raise ValueError on a well-formed impossible value (2026-13-01, 25:00)
        day = parse_date(raw)
        moment = None if day is not None else parse_datetime(raw)
    except ValueError:
        day = moment = None
    if day is None and moment is None:
        raise ValidationFailed({field: ["Use a date (2026-11-01) or an ISO 8601 datetime."]})
    try:  # the day after 9999-12-31, or 0001-01-01 in UTC+5 in UTC, overflow: a 500 before
        if day is not None:
            start = datetime.combine(day, time.min, tzinfo=UTC)
            bound = start + timedelta(days=1) if end else start
        else:
            bound = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        bound = None
    if bound is None or not EARLIEST_BOUND <= bound <= LATEST_BOUND:
        raise ValidationFailed({field: ["Use a date from 1900-01-01 to 9998-12-31."]})
    return bound


def history_window(query_params) -> tuple[datetime | None, datetime | None]:
    since = query_params.get("since")
    until = query_params.get("until")
    start = parse_bound(since, "since", end=False) if since else None
    stop = parse_bound(until, "until", end=True) if until else None
    if start and stop and start >= stop:
        raise ValidationFailed({"until": ["Must be after since."]})
    return start, stop


class CounterpartyOutput(Output):
    name = serializers.CharField()
    account_number = serializers.CharField(allow_null=True)


BANK_NAME = "Northwind Bank"


def counterparty(
    kind: str,
    description: str,
    other_type: str | None,
    other_number: str | None,
    other_holder_name: str,
) -> dict | None:
    """Who paid or was paid, from plain values: the transaction's kind and description and
    the other leg's account (its type and number, None when the transaction has more than two
    legs, and its holder's name, "" without one). The one rule for the history API
    (`counterparty_of`) and a statement's lines, which read the same columns as rows: the
    merchant for a card payment, the bank for the other postings against its own accounts
    (deposits, withdrawals, reversals), else the other holder."""
    if other_type is None:
        return None
    if other_type == Account.Type.INTERNAL:
        if kind == Transaction.Kind.CARD_PAYMENT:
            return {"name": description, "account_number": None}  # the merchant
        return {"name": BANK_NAME, "account_number": None}
    return {"name": other_holder_name, "account_number": other_number}


def counterparty_of(entry: Entry) -> dict | None:
    other = entry.counterparty
    if other is None:
        return None
    txn = entry.transaction
    name = other.holder.full_name if other.holder else ""
    return counterparty(txn.kind, txn.description, other.type, other.number, name)


class EntryOutput(Output):
    id = serializers.UUIDField()
    transaction_id = serializers.UUIDField()
    kind = serializers.CharField(source="transaction.kind")
    amount = serializers.IntegerField(help_text="Signed minor units: + credit, - debit.")
    currency = serializers.CharField()
    balance_after = serializers.IntegerField()
    description = serializers.CharField(source="transaction.description")
    counterparty = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(CounterpartyOutput(allow_null=True))
    def get_counterparty(self, entry: Entry) -> dict | None:
        return counterparty_of(entry)


class PostedOutput(Output):
    """A deposit or withdrawal, from the account's side."""

    id = serializers.UUIDField(source="transaction_id")
    kind = serializers.CharField(source="transaction.kind")
    account = serializers.UUIDField(source="account_id")
    amount = serializers.SerializerMethodField()
    currency = serializers.CharField()
    balance_after = serializers.IntegerField()
    description = serializers.CharField(source="transaction.description")
    created_at = serializers.DateTimeField()

    def get_amount(self, entry: Entry) -> int:
        return abs(entry.amount)


class ApprovalRequestOutput(Output):
    """API.md "Approvals": a movement above the approval limit, waiting for a second person."""

    id = serializers.UUIDField()
    kind = serializers.CharField()
    account = serializers.UUIDField(source="account_id")
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    description = serializers.CharField()
    status = serializers.CharField(source="current_status")
    requested_by = serializers.UUIDField(source="requested_by_id")
    decided_by = serializers.UUIDField(source="decided_by_id", allow_null=True)
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField()


class RejectInput(StrictSerializer):
    reason = serializers.CharField(max_length=500)


# --- transfers --------------------------------------------------------------------------------


class TransferInput(StrictSerializer):
    from_account = serializers.UUIDField()
    to_account_number = AccountNumberField()
    amount = MinorUnitsField()
    description = serializers.CharField(
        max_length=140, required=False, default="", allow_blank=True
    )


class TransferOutput(Output):
    """A transfer seen from the caller's side, built from the caller's own entry."""

    id = serializers.UUIDField(source="transaction_id")
    direction = serializers.SerializerMethodField()
    from_account = serializers.SerializerMethodField()
    from_account_number = serializers.SerializerMethodField()
    to_account_number = serializers.SerializerMethodField()
    amount = serializers.SerializerMethodField()
    currency = serializers.CharField()
    status = serializers.SerializerMethodField()
    description = serializers.CharField(source="transaction.description")
    created_at = serializers.DateTimeField()

    def get_direction(self, entry: Entry) -> str:
        return "sent" if entry.amount < 0 else "received"

    def get_from_account(self, entry: Entry) -> str | None:
        return str(entry.account_id) if entry.amount < 0 else None

    def get_from_account_number(self, entry: Entry) -> str:
        return entry.account.number if entry.amount < 0 else entry.counterparty.number

    def get_to_account_number(self, entry: Entry) -> str:
        return entry.counterparty.number if entry.amount < 0 else entry.account.number

    def get_amount(self, entry: Entry) -> int:
        return abs(entry.amount)

    def get_status(self, entry: Entry) -> str:
        return "posted"


# One instance for every response: a serializer deep-copies its declared fields each time one
# is made, and to_representation() keeps no state, so sharing it between threads is safe.
_TRANSFER_OUTPUT = TransferOutput()


def transfer_response(txn) -> tuple[int, dict]:
    """What a posted transfer answers, stored with its idempotency key and replayed: the API's
    201 body, and what the portal's confirmation step finds again on a double submission."""
    return status.HTTP_201_CREATED, _TRANSFER_OUTPUT.to_representation(txn.posted_entries[0])
