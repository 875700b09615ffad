"""Staff screens. Read-mostly: money moves and status changes go through the ledger services
(the same ones the API calls), with who did it and why; ledger rows are never edited.

Who may do what is `ledger.permissions.may`, the API's own check: each action is offered only
to a role that holds its permission (`allowed_permissions` -> `has_<action>_permission`), and
the deposit / withdraw pages answer 403 to anyone else. The staff rules themselves (a reason,
never one's own account, the approval limit) are the services'."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core.currencies import format_money
from core.errors import BankError
from core.forms import AmountField
from ledger import services
from ledger.errors import OwnAccountError
from ledger.models import (
    Account,
    AccountStatusChange,
    ApprovalRequest,
    Entry,
    IdempotencyKey,
    LedgerCheckRun,
    Transaction,
)
from ledger.permissions import may


class StaffActionsMixin:
    """`has_<action>_permission` for every staff action an admin offers, from the one mapping:
    Django's admin offers an action only when its `allowed_permissions` pass."""

    def has_deposit_permission(self, request) -> bool:
        return may(request.user, "deposit")

    def has_withdraw_permission(self, request) -> bool:
        return may(request.user, "withdraw")

    def has_freeze_permission(self, request) -> bool:
        return may(request.user, "freeze")

    def has_unfreeze_permission(self, request) -> bool:
        return may(request.user, "unfreeze")

    def has_close_permission(self, request) -> bool:
        return may(request.user, "close")

    def has_reverse_permission(self, request) -> bool:
        return may(request.user, "reverse")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # corrections are reversing transactions

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class MoneyForm(forms.Form):
    amount = AmountField()  # cleans to minor units, by the portal's rule
    description = forms.CharField(max_length=140)  # why: required on every staff action

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].currency = currency
        self.fields["amount"].help_text = f"In {currency}, e.g. 125.50"


def ask_reason(model_admin, request, queryset, form: ReasonForm, label: str, *, title: str):
    """The page between choosing an action and running it: what will be acted on, and why."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "accounts": queryset,
        "form": form,
        "action": request.POST.get("action"),
        "label": label,
        "opts": model_admin.model._meta,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/ledger/reason_form.html", context)


class StatusChangeInline(ReadOnlyInline):
    model = AccountStatusChange
    verbose_name_plural = "status history"
    fields = ["created_at", "from_status", "to_status", "reason", "changed_by"]
    readonly_fields = fields


LATEST_ENTRIES = 20


class LatestEntriesFormSet(BaseInlineFormSet):
    def get_queryset(self):  # the account's newest entries only: a history can be long
        return super().get_queryset().order_by("-created_at", "-id")[:LATEST_ENTRIES]


class LatestEntriesInline(ReadOnlyInline):
    model = Entry
    fk_name = "account"
    formset = LatestEntriesFormSet
    verbose_name_plural = f"latest {LATEST_ENTRIES} entries (all of them: Entries, by account)"
    fields = ["created_at", "kind", "amount", "balance_after", "counterparty", "transaction"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("transaction", "counterparty")

    @admin.display(description="Kind")
    def kind(self, entry: Entry) -> str:
        return entry.transaction.kind


def number_search(search_term: str) -> str:
    """An account number as people type it ("12 3456-7890"): the stored form has neither."""
    compact = search_term.replace(" ", "").replace("-", "")
    return compact if compact.isdigit() else search_term


@admin.register(Account)
class AccountAdmin(StaffActionsMixin, admin.ModelAdmin):
    list_display = [
        "number",
        "holder",
        "type",
        "currency",
        "balance_display",
        "status",
        "created_at",
    ]
    list_filter = ["status", "type", "currency"]
    search_fields = ["number", "holder__user__email", "holder__first_name", "holder__last_name"]
    list_select_related = ["holder"]
    readonly_fields = [
        "id",
        "number",
        "holder",
        "type",
        "currency",
        "balance_display",
        "available_balance_display",
        "status",
        "created_at",
        "money_links",
    ]
    fields = [*readonly_fields[:-1], "nickname", "money_links"]
    inlines = [StatusChangeInline, LatestEntriesInline]
    actions = ["freeze_selected", "unfreeze_selected", "close_selected"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # customers open accounts; the bank's own appear on first use

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        services.rename_account(account=obj, nickname=form.cleaned_data["nickname"])

    @admin.display(description="Balance", ordering="balance")
    def balance_display(self, account: Account) -> str:
        # The bank's own accounts: their row plus their shards (a query each, one per currency).
        return format_money(account.ledger_balance(), account.currency)

    @admin.display(description="Available balance")
    def available_balance_display(self, account: Account) -> str:
        return format_money(account.available_balance, account.currency)

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, number_search(search_term))

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if may(request.user, "deposit") or may(request.user, "withdraw"):
            return fields
        return [field for field in fields if field != "money_links"]  # a role without cash

    @admin.display(description="Move money")
    def money_links(self, account: Account) -> str:
        if account.is_internal or account.pk is None:
            return "-"
        return format_html(
            '<a class="button" href="{}">Deposit</a> <a class="button" href="{}">Withdraw</a>',
            reverse("admin:ledger_account_deposit", args=[account.pk]),
            reverse("admin:ledger_account_withdraw", args=[account.pk]),
        )

    # --- deposit / withdraw: a form, then the ledger service --------------------------------

    def get_urls(self):
        extra = [
            path(
                "<uuid:account_id>/deposit/",
                self.admin_site.admin_view(self.money_view),
                {"service": "deposit"},
                name="ledger_account_deposit",
            ),
            path(
                "<uuid:account_id>/withdraw/",
                self.admin_site.admin_view(self.money_view),
                {"service": "withdraw"},
                name="ledger_account_withdraw",
            ),
        ]
        return extra + super().get_urls()

    def money_view(self, request: HttpRequest, account_id, service: str):
        if not may(request.user, service):
            raise PermissionDenied
        account = get_object_or_404(Account.objects.customer(), pk=account_id)
        form = MoneyForm(request.POST or None, currency=account.currency)
        if request.method == "POST" and form.is_valid():
            post_money = services.deposit if service == "deposit" else services.withdraw
            try:
                result = post_money(
                    account=account,
                    amount=form.cleaned_data["amount"],
                    description=form.cleaned_data["description"],
                    initiated_by=request.user,
                )
            except OwnAccountError as error:
                form.add_error(None, error.message)
            except BankError as error:
                form.add_error("amount", error.message)
            else:
                amount = format_money(form.cleaned_data["amount"], account.currency)
                if isinstance(result, ApprovalRequest):
                    self.message_user(  # the API's 202: nothing posted yet
                        request,
                        f"{amount} is above the approval limit: nothing was posted; approval "
                        f"request {result.pk} waits for a second person.",
                        messages.WARNING,
                    )
                else:
                    verb = "Deposited" if service == "deposit" else "Withdrew"
                    self.message_user(request, f"{verb} {amount} on {account}.", messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:ledger_account_change", args=[account.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"{service.title()} · {account}",
            "account": account,
            "form": form,
            "opts": self.model._meta,
            "service": service,
        }
        return TemplateResponse(request, "admin/ledger/money_form.html", context)

    # --- freeze / unfreeze / close: actions that ask why ------------------------------------

    def _status_action(self, request, queryset, service, label: str):
        if "apply" in request.POST:
            form = ReasonForm(request.POST)
            if form.is_valid():
                done, refused = 0, []
                if bank_own := queryset.count() - queryset.customer().count():
                    refused.append(f"{bank_own} of the bank's own accounts: left as they are.")
                for account in queryset.customer():
                    try:
                        service(
                            account=account, reason=form.cleaned_data["reason"], by=request.user
                        )
                        done += 1
                    except BankError as error:
                        refused.append(f"{account}: {error.message}")
                if done:
                    self.message_user(request, f"{label}: {done} account(s).", messages.SUCCESS)
                for line in refused:
                    self.message_user(request, line, messages.ERROR)
                return None
        else:
            form = ReasonForm()
        return ask_reason(self, request, queryset, form, label, title=f"{label} accounts")

    @admin.action(description="Freeze selected accounts", permissions=["freeze"])
    def freeze_selected(self, request, queryset):
        return self._status_action(request, queryset, services.freeze_account, "Freeze")

    @admin.action(description="Unfreeze selected accounts", permissions=["unfreeze"])
    def unfreeze_selected(self, request, queryset):
        return self._status_action(request, queryset, services.unfreeze_account, "Unfreeze")

    @admin.action(
        description="Close selected accounts (final; balance must be zero)", permissions=["close"]
    )
    def close_selected(self, request, queryset):
        return self._status_action(request, queryset, services.close_account, "Close")


class EntryInline(ReadOnlyInline):
    model = Entry
    fields = ["account", "amount", "currency", "balance_after", "counterparty", "created_at"]
    readonly_fields = fields


@admin.register(Transaction)
class TransactionAdmin(StaffActionsMixin, ReadOnlyAdmin):
    list_display = ["id", "kind", "description", "initiated_by", "created_at"]
    list_filter = ["kind", ("entries__currency", admin.AllValuesFieldListFilter), "created_at"]
    search_fields = ["=id", "description", "entries__account__number"]
    list_select_related = ["initiated_by"]
    readonly_fields = [
        "id",
        "kind",
        "description",
        "initiated_by",
        "approved_by",
        "reverses",
        "created_at",
    ]
    inlines = [EntryInline]
    actions = ["reverse_selected"]
    date_hierarchy = "created_at"

    @admin.display(description="Approved by (four eyes)")
    def approved_by(self, txn: Transaction) -> str:
        approval = ApprovalRequest.objects.filter(transaction=txn).first()
        return str(approval.decided_by) if approval else "-"

    @admin.action(
        description="Reverse selected transactions (a new, opposite transaction)",
        permissions=["reverse"],
    )
    def reverse_selected(self, request, queryset):
        if "apply" in request.POST:
            form = ReasonForm(request.POST)
            if form.is_valid():
                for original in queryset:
                    try:
                        result = services.reverse(
                            original=original,
                            initiated_by=request.user,
                            reason=form.cleaned_data["reason"],
                        )
                    except BankError as error:
                        self.message_user(
                            request, f"{original.id}: {error.message}", messages.ERROR
                        )
                        continue
                    if isinstance(result, ApprovalRequest):
                        self.message_user(
                            request,
                            f"{original.id} is above the approval limit: nothing was posted; "
                            f"approval request {result.pk} waits for a second person.",
                            messages.WARNING,
                        )
                    else:
                        self.message_user(request, f"Reversed {original.id}.", messages.SUCCESS)
                return None
        else:
            form = ReasonForm()
        return ask_reason(self, request, queryset, form, "Reverse", title="Reverse transactions")


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "amount", "currency", "balance_after", "transaction"]
    list_filter = ["transaction__kind", "currency", "created_at"]
    date_hierarchy = "created_at"
    search_fields = ["account__number", "=transaction__id"]

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, number_search(search_term))

    list_select_related = ["account", "transaction"]
    readonly_fields = [
        "id",
        "transaction",
        "account",
        "counterparty",
        "amount",
        "currency",
        "balance_after",
        "created_at",
    ]


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = ["scope", "key", "response_status", "transaction", "created_at"]
    search_fields = ["scope", "key"]
    readonly_fields = [
        "scope",
        "key",
        "fingerprint",
        "response_status",
        "response_body",
        "transaction",
        "created_at",
    ]


class ApprovalStateFilter(admin.SimpleListFilter):
    """The status a person sees: a pending request past its lifetime is expired."""

    title = "status"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return ApprovalRequest.Status.choices

    def queryset(self, request, queryset):
        if self.value() in ApprovalRequest.Status.values:
            return queryset.with_status(self.value())
        return queryset


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    """Four eyes: what waits for a second person first. An approver decides one request on
    its page (Approve, or Reject with a reason), through the services the API calls."""

    list_display = [
        "created_at",
        "kind",
        "account",
        "amount_display",
        "state",
        "requested_by",
        "decided_by",
        "decide_links",
    ]
    list_filter = [ApprovalStateFilter, "kind", "currency"]
    search_fields = ["=id", "account__number", "requested_by__email"]
    list_select_related = ["account", "requested_by", "decided_by"]
    readonly_fields = [
        "id",
        "kind",
        "account",
        "amount_display",
        "description",
        "state",
        "requested_by",
        "created_at",
        "expires_at",
        "reverses",
        "decided_by",
        "decided_at",
        "decision_reason",
        "transaction",
        "decide_links",
    ]
    fields = readonly_fields

    def get_queryset(self, request):
        return ApprovalRequest.objects.open_first()  # annotated before any ordering by `waits`

    def get_ordering(self, request):
        return ["waits", "-created_at", "-id"]  # open_first's, unless a column is clicked

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, approval: ApprovalRequest) -> str:
        return format_money(approval.amount, approval.currency)

    @admin.display(description="Status")
    def state(self, approval: ApprovalRequest) -> str:
        return approval.current_status

    @admin.display(description="Decide")
    def decide_links(self, approval: ApprovalRequest) -> str:
        if approval.pk is None or approval.current_status != ApprovalRequest.Status.PENDING:
            return "-"
        return format_html(
            '<a class="button" href="{}">Approve</a> <a class="button" href="{}">Reject</a>',
            reverse("admin:ledger_approvalrequest_approve", args=[approval.pk]),
            reverse("admin:ledger_approvalrequest_reject", args=[approval.pk]),
        )

    def get_urls(self):
        extra = [
            path(
                "<uuid:approval_id>/approve/",
                self.admin_site.admin_view(self.decide_view),
                {"decision": "approve"},
                name="ledger_approvalrequest_approve",
            ),
            path(
                "<uuid:approval_id>/reject/",
                self.admin_site.admin_view(self.decide_view),
                {"decision": "reject"},
                name="ledger_approvalrequest_reject",
            ),
        ]
        return extra + super().get_urls()

    def decide_view(self, request: HttpRequest, approval_id, decision: str):
        """A page that shows the request and asks to confirm (approve) or why (reject)."""
        if not may(request.user, "approve"):
            raise PermissionDenied
        approval = get_object_or_404(
            ApprovalRequest.objects.select_related("account", "requested_by"), pk=approval_id
        )
        data = request.POST if request.method == "POST" else None
        form = ReasonForm(data) if decision == "reject" else forms.Form(data)
        if request.method == "POST" and form.is_valid():
            try:
                if decision == "approve":
                    txn = services.approve_request(approval=approval, by=request.user)
                    done = f"Approved: posted transaction {txn.pk}."
                else:
                    services.reject_request(
                        approval=approval, by=request.user, reason=form.cleaned_data["reason"]
                    )
                    done = "Rejected: nothing was posted."
            except BankError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, done, messages.SUCCESS)
            return HttpResponseRedirect(
                reverse("admin:ledger_approvalrequest_change", args=[approval.pk])
            )
        context = {
            **self.admin_site.each_context(request),
            "title": f"{decision.title()} · {approval.kind} of "
            f"{format_money(approval.amount, approval.currency)}",
            "approval": approval,
            "form": form,
            "opts": self.model._meta,
            "decision": decision,
        }
        return TemplateResponse(request, "admin/ledger/decide_form.html", context)


@admin.register(LedgerCheckRun)
class LedgerCheckRunAdmin(ReadOnlyAdmin):
    """Every `manage.py ledger_check` run and what it found."""

    list_display = ["started_at", "ok", "problem_count", "transactions", "entries", "accounts"]
    list_filter = ["ok", "started_at"]
    readonly_fields = [
        "started_at",
        "finished_at",
        "ok",
        "transactions",
        "entries",
        "accounts",
        "report",
    ]
    fields = readonly_fields
