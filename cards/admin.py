"""Cards in the back office: masked (last four digits only; the database holds nothing more),
searchable by the last four digits and the holder's email, read-only. Back office can freeze a
card with a reason, through `staff_freeze_card` (the staff rules and an audit record). The
fingerprint and its key id are never shown: they are no one's business in the admin."""

from django.contrib import admin, messages

from cards import services
from cards.models import Card, CardAuthorization, CardPayment
from core.currencies import format_money
from core.errors import BankError
from ledger.admin import ReadOnlyAdmin, ReasonForm, ask_reason
from ledger.permissions import may


@admin.register(Card)
class CardAdmin(ReadOnlyAdmin):
    list_display = [
        "masked",
        "brand",
        "holder_email",
        "account",
        "status",
        "expiry",
        "daily_limit_display",
        "created_at",
    ]
    list_filter = ["status", "brand"]
    search_fields = ["=last4", "account__holder__user__email", "account__number"]
    list_select_related = ["account__holder__user"]
    fields = [
        "id",
        "masked",
        "brand",
        "account",
        "holder_email",
        "status",
        "expiry",
        "daily_limit_display",
        "cvc_failures",
        "cvc_failures_on",
        "created_at",
    ]
    readonly_fields = fields
    actions = ["freeze_selected"]

    @admin.display(description="Card")
    def masked(self, card: Card) -> str:
        return card.masked

    @admin.display(description="Holder", ordering="account__holder__user__email")
    def holder_email(self, card: Card) -> str:
        holder = card.account.holder
        return holder.user.email if holder else "-"

    @admin.display(description="Expires")
    def expiry(self, card: Card) -> str:
        return f"{card.expiry_month:02d}/{card.expiry_year}"

    @admin.display(description="Daily limit", ordering="daily_limit")
    def daily_limit_display(self, card: Card) -> str:
        return format_money(card.daily_limit, card.account.currency)

    def has_freeze_permission(self, request) -> bool:
        return may(request.user, "freeze")

    @admin.action(description="Freeze selected cards", permissions=["freeze"])
    def freeze_selected(self, request, queryset):
        if "apply" in request.POST:
            form = ReasonForm(request.POST)
            if form.is_valid():
                for card in queryset.select_related("account"):
                    try:
                        services.staff_freeze_card(
                            card=card, reason=form.cleaned_data["reason"], by=request.user
                        )
                        self.message_user(request, f"Froze {card}.", messages.SUCCESS)
                    except BankError as error:
                        self.message_user(request, f"{card}: {error.message}", messages.ERROR)
                return None
        else:
            form = ReasonForm()
        return ask_reason(self, request, queryset, form, "Freeze", title="Freeze cards")


@admin.register(CardPayment)
class CardPaymentAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "card", "merchant", "amount_display", "transaction"]
    search_fields = ["=card__last4", "merchant", "=transaction__id"]
    list_select_related = ["card", "transaction"]
    readonly_fields = ["id", "card", "transaction", "amount_display", "merchant", "created_at"]
    fields = readonly_fields

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, payment: CardPayment) -> str:
        return format_money(payment.amount, payment.currency)


@admin.register(CardAuthorization)
class CardAuthorizationAdmin(ReadOnlyAdmin):
    """Holds, read-only: what each authorisation holds, what was captured of it, and when it
    expires (`manage.py expire_holds` releases it then)."""

    list_display = [
        "created_at",
        "card",
        "merchant",
        "amount_display",
        "captured_display",
        "status",
        "expires_at",
    ]
    list_filter = ["status"]
    search_fields = ["=card__last4", "merchant", "account__number"]
    list_select_related = ["card"]
    readonly_fields = [
        "id",
        "card",
        "account",
        "merchant",
        "amount_display",
        "captured_display",
        "status",
        "expires_at",
        "created_at",
    ]
    fields = readonly_fields

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, hold: CardAuthorization) -> str:
        return format_money(hold.amount, hold.currency)

    @admin.display(description="Captured", ordering="captured_amount")
    def captured_display(self, hold: CardAuthorization) -> str:
        return format_money(hold.captured_amount, hold.currency)
