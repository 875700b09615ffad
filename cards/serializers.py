from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, status

from cards.models import Card, CardAuthorization
from core.serializers import Output, StrictSerializer
from ledger.serializers import MinorUnitsField


class WholeNumberField(serializers.Field):
    """A JSON integer within [low, high]: no bool, no float, no string."""

    def __init__(self, *, low: int, high: int, **kwargs):
        self.low, self.high = low, high
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int) or not self.low <= data <= self.high:
            raise serializers.ValidationError(
                f"Must be a whole number from {self.low} to {self.high}."
            )
        return data

    def to_representation(self, value):
        return value


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 12})
class MonthField(WholeNumberField):
    def __init__(self, **kwargs):
        super().__init__(low=1, high=12, **kwargs)


@extend_schema_field({"type": "integer", "minimum": 2000, "maximum": 2099})
class YearField(WholeNumberField):
    def __init__(self, **kwargs):
        super().__init__(low=2000, high=2099, **kwargs)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": settings.CARD_DAILY_LIMIT_MAX})
class DailyLimitField(WholeNumberField):
    """Minor units of the account's currency, up to the bank's maximum (CARD_DAILY_LIMIT_MAX)."""

    def __init__(self, **kwargs):
        super().__init__(low=1, high=settings.CARD_DAILY_LIMIT_MAX, **kwargs)


class CardOutput(serializers.ModelSerializer):
    account = serializers.UUIDField(source="account_id", read_only=True)

    class Meta:
        model = Card
        fields = [
            "id",
            "account",
            "brand",
            "last4",
            "expiry_month",
            "expiry_year",
            "status",
            "daily_limit",
            "created_at",
        ]
        read_only_fields = fields


class IssuedCardOutput(CardOutput):
    """The answer to the issue, the one place the number and the CVC ever appear."""

    pan = serializers.CharField(read_only=True, help_text="The full card number: shown once.")
    cvc = serializers.CharField(read_only=True, help_text="Shown once; never stored.")

    class Meta(CardOutput.Meta):
        fields = [*CardOutput.Meta.fields, "pan", "cvc"]
        read_only_fields = fields


def issued_card_data(issued) -> dict:
    return {**CardOutput(issued.card).data, "pan": issued.pan, "cvc": issued.cvc}


class CardIssueInput(StrictSerializer):
    account = serializers.UUIDField()
    daily_limit = DailyLimitField(required=False)


class CardPatchInput(StrictSerializer):
    patch_is_partial = False  # the view validates it whole: `daily_limit` is required
    daily_limit = DailyLimitField()


class CardDataInput(StrictSerializer):
    """The card data: the merchant's credential. No message here ever repeats what was sent:
    a refused number or CVC is never echoed into a response or a log."""

    pan = serializers.RegexField(
        r"^[0-9]{12,19}$",
        max_length=19,
        error_messages={"invalid": "Must be the card number: 12 to 19 digits."},
    )
    expiry_month = MonthField()
    expiry_year = YearField()
    cvc = serializers.RegexField(
        r"^[0-9]{3,4}$", max_length=4, error_messages={"invalid": "Must be 3 or 4 digits."}
    )


class CardPaymentInput(CardDataInput):
    """The card data and the payment (or the authorisation: the same fields)."""

    amount = MinorUnitsField()
    merchant = serializers.CharField(max_length=140)


class CaptureInput(CardDataInput):
    amount = MinorUnitsField(
        required=False, help_text="Minor units; default: all that remains held."
    )


class CardPaymentOutput(Output):
    id = serializers.UUIDField()
    status = serializers.CharField(default="approved")
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    merchant = serializers.CharField()
    created_at = serializers.DateTimeField()


def payment_response(txn) -> tuple[int, dict]:
    """What an approved payment answers, stored with its idempotency key and replayed."""
    _, bank_leg = txn.posted_entries  # the card's account pays the bank's settlement account
    body = {
        "id": txn.pk,
        "status": "approved",
        "amount": bank_leg.amount,
        "currency": bank_leg.currency,
        "merchant": txn.description,
        "created_at": txn.created_at,
    }
    return status.HTTP_201_CREATED, CardPaymentOutput(body).data


class CardAuthorizationOutput(serializers.ModelSerializer):
    class Meta:
        model = CardAuthorization
        fields = [
            "id",
            "status",
            "amount",
            "captured_amount",
            "currency",
            "merchant",
            "expires_at",
            "created_at",
        ]
        read_only_fields = fields


class CaptureOutput(CardAuthorizationOutput):
    transaction_id = serializers.UUIDField(help_text="The card payment this capture posted.")

    class Meta(CardAuthorizationOutput.Meta):
        fields = [*CardAuthorizationOutput.Meta.fields, "transaction_id"]
        read_only_fields = fields


def authorization_response(authorization) -> tuple[int, dict]:
    """What an approved authorisation answers, stored with its key and replayed."""
    return status.HTTP_201_CREATED, CardAuthorizationOutput(authorization).data


def capture_response(txn) -> tuple[int, dict]:
    """What a capture answers: the authorisation after it (read in the capture's own
    transaction), with the payment it posted. Stored with its key and replayed."""
    authorization = CardAuthorization.objects.get(captures__transaction=txn.pk)
    body = {**CardAuthorizationOutput(authorization).data, "transaction_id": txn.pk}
    return status.HTTP_201_CREATED, CaptureOutput(body).data
