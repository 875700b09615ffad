"""The portal's pages for accounts, history and transfers.

Plain Django views on session auth that call the same selectors and services as the API
(`accounts_for`, `account_get`, `payee_get`, `entries_for`, `transfer`...): whose account it
is, whether the money is there and how a retry is recognised are decided there, once. A view
parses a form, calls, and renders; a refusal is shown beside the field it concerns.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from rest_framework.exceptions import NotFound as BadCursor
from rest_framework.request import Request

from accounts.models import User
from accounts.selectors import profile_for
from core.currencies import format_money, to_major, to_minor
from core.errors import BankError, NotFound, Replay, ValidationFailed
from core.pages import show_refusal
from core.pagination import NewestFirstCursorPagination
from ledger import services
from ledger.charts import BalanceChart, balance_chart
from ledger.forms import AccountOpenForm, HistoryFilterForm, TransferConfirmForm, TransferForm
from ledger.idempotency import Idempotency, fingerprint
from ledger.models import Account, Entry
from ledger.selectors import (
    account_get,
    accounts_for,
    balance_points,
    entries_for,
    payee_get,
    recent_entries_for,
    transfer_get,
)
from ledger.serializers import MAX_AMOUNT, counterparty_of, history_window, transfer_response

CHART_SPAN = timedelta(days=183)  # six months
RECENT_ACTIVITY = 8

# Which field of the transfer form a refusal belongs beside; the rest go above the form.
TRANSFER_FIELD_OF = {
    "insufficient_funds": "amount",
    "same_account": "to_account_number",
    "currency_mismatch": "to_account_number",
    "not_found": "to_account_number",
}
PAGE_MESSAGES = {
    "idempotency_conflict": "This confirmation was already used for a different transfer. "
    "Check the details and continue again.",
    "currency_mismatch": "This account holds another currency than the account you send from.",
}


# --- helpers ----------------------------------------------------------------------------------


def own_account(user: User, id: UUID) -> Account:
    try:
        return account_get(user=user, id=id)
    except NotFound:
        raise Http404() from None  # someone else's account does not exist for you


@dataclass
class HistoryRow:
    """One history line: the entry and who was on the other side of it."""

    entry: Entry
    counterparty: dict | None


def history_rows(entries) -> list[HistoryRow]:
    return [HistoryRow(entry, counterparty_of(entry)) for entry in entries]


def charts_for(accounts: list[Account]) -> dict[UUID, BalanceChart]:
    """Each account's balance over the last six months, or since it was opened."""
    end = timezone.now()
    since = datetime.combine((end - CHART_SPAN).date(), time.min, tzinfo=UTC)
    series = balance_points(accounts, since=since)
    return {
        account.pk: balance_chart(
            currency=account.currency,
            opening=series[account.pk][0],
            points=series[account.pk][1],
            start=max(since, account.created_at),
            end=end,
        )
        for account in accounts
    }


# --- dashboard and accounts ---------------------------------------------------------------


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    accounts = list(accounts_for(request.user).order_by("created_at", "id"))
    charts = charts_for(accounts)
    totals: dict[str, int] = {}
    for account in accounts:
        totals[account.currency] = totals.get(account.currency, 0) + account.balance
    context = {
        "holder": profile_for(request.user),
        "accounts": [(account, charts[account.pk]) for account in accounts],
        "totals": sorted(totals.items()),
        "recent": history_rows(recent_entries_for(request.user, limit=RECENT_ACTIVITY)),
    }
    return render(request, "ledger/dashboard.html", context)


@login_required
def account_new(request: HttpRequest) -> HttpResponse:
    form = AccountOpenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        account = services.open_account(owner=request.user, **form.cleaned_data)
        messages.success(
            request,
            "Your account is open. Its number is below: share it to be paid into it.",
        )
        return redirect("pages:account", id=account.pk)
    return render(request, "ledger/account_new.html", {"form": form})


class HistoryPagination(NewestFirstCursorPagination):
    """The API's cursor pagination: a page does not shift when new entries arrive."""


@login_required
def account_detail(request: HttpRequest, id: UUID) -> HttpResponse:
    account = own_account(request.user, id)
    filters = HistoryFilterForm(request.GET or None)
    filters.is_valid()
    rows, older, newer = [], None, None
    try:
        since, until = history_window(request.GET)
    except ValidationFailed as error:
        show_refusal(filters, error)
    else:
        paginator = HistoryPagination()
        try:
            page = paginator.paginate_queryset(
                entries_for(account, since=since, until=until), Request(request)
            )
        except (BadCursor, ValidationFailed):  # a forged `cursor` or `limit`: the 400 page
            raise BadRequest() from None
        rows = history_rows(page)
        older, newer = paginator.get_next_link(), paginator.get_previous_link()
    context = {
        "account": account,
        "chart": charts_for([account])[account.pk],
        "filters": filters,
        "filtered": bool(request.GET.get("since") or request.GET.get("until")),
        "rows": rows,
        "older": older,
        "newer": newer,
    }
    return render(request, "ledger/account_detail.html", context)


# --- transfers ------------------------------------------------------------------------------


@dataclass
class Draft:
    """A transfer checked and ready to confirm."""

    source: Account
    payee: Account
    amount: int
    description: str

    @property
    def balance_after(self) -> int:
        return self.source.balance - self.amount

    @property
    def major_amount(self) -> Decimal:
        return to_major(self.amount, self.source.currency)

    def fingerprint_body(self) -> dict:
        return {
            "from_account": str(self.source.pk),
            "to_account_number": self.payee.number,
            "amount": self.amount,
            "description": self.description,
        }


def draft_from(form: TransferForm, user: User) -> Draft | None:
    """The form's fields as accounts and minor units, or None with every problem on the form.
    Called after `is_valid()`, valid or not, so that each field that parsed is checked too."""
    data = form.cleaned_data
    source = payee = amount = None
    if "from_account" in data:
        try:
            source = account_get(user=user, id=data["from_account"])
        except NotFound:
            form.add_error("from_account", "Choose one of your accounts.")
    if "to_account_number" in data:
        try:
            payee = payee_get(number=data["to_account_number"])
        except NotFound as error:
            form.add_error("to_account_number", error.message)
    if source is not None and "amount" in data:
        try:
            amount = to_minor(data["amount"], source.currency)
        except ValueError as error:
            form.add_error("amount", str(error))
        else:
            if amount >= MAX_AMOUNT:
                form.add_error("amount", "This amount is too large.")
    if form.errors or source is None or payee is None or amount is None:
        return None
    return Draft(source, payee, amount, data.get("description", ""))


def refuse(form: TransferForm, error: BankError) -> None:
    message = PAGE_MESSAGES.get(error.code, error.message)
    form.add_error(TRANSFER_FIELD_OF.get(error.code), message)


def transfer_form_page(request: HttpRequest, form: TransferForm, status: int = 200):
    return render(request, "ledger/transfer_form.html", {"form": form}, status=status)


@login_required
def transfer_new(request: HttpRequest) -> HttpResponse:
    """Step one: the form. A valid form is checked against the transfer rules (without
    locks; `transfer` checks them again under its locks) and answered with the confirmation."""
    accounts = list(accounts_for(request.user).order_by("created_at", "id"))
    if request.method != "POST":
        initial = {"from_account": request.GET.get("from")}
        return transfer_form_page(request, TransferForm(initial=initial, accounts=accounts))
    form = TransferForm(request.POST, accounts=accounts)
    form.is_valid()
    if (draft := draft_from(form, request.user)) is None:
        return transfer_form_page(request, form)
    try:
        services.ensure_can_transfer(draft.source, draft.payee, draft.amount)
    except BankError as error:
        refuse(form, error)
        return transfer_form_page(request, form)
    context = {
        "draft": draft,
        "idempotency_key": uuid.uuid4().hex,
        "to_own_account": draft.payee.holder is not None
        and draft.payee.holder.user_id == request.user.pk,
    }
    return render(request, "ledger/transfer_confirm.html", context)


@login_required
@require_POST
def transfer_confirm(request: HttpRequest) -> HttpResponse:
    """Step two. The confirmation carries an idempotency key made when it was shown, so a
    double submission posts once: the second finds the first's answer and shows its result."""
    user = request.user
    accounts = list(accounts_for(user).order_by("created_at", "id"))
    form = TransferConfirmForm(request.POST, accounts=accounts)
    if not form.is_valid() or form.cleaned_data["action"] == "edit":
        step_one = TransferForm(request.POST, accounts=accounts)
        step_one.is_valid()
        return transfer_form_page(request, step_one)
    draft = draft_from(form, user)
    if draft is None:
        return transfer_form_page(request, form)
    idempotency = Idempotency(
        scope=f"user:{user.pk}",
        key=form.cleaned_data["idempotency_key"],
        fingerprint=fingerprint(method="POST", path=request.path, body=draft.fingerprint_body()),
        respond=transfer_response,
    )
    try:
        txn = services.transfer(
            from_account=draft.source.pk,
            to_account_number=draft.payee.number,
            amount=draft.amount,
            initiated_by=user,
            description=draft.description,
            idempotency=idempotency,
        )
    except Replay as replay:
        messages.info(request, "This transfer was already sent. It was not sent a second time.")
        return redirect("pages:transfer", id=replay.body["id"])
    except BankError as error:
        refuse(form, error)
        return transfer_form_page(request, form)
    payee_name = draft.payee.holder.full_name if draft.payee.holder else "the payee"
    messages.success(
        request, f"Sent {format_money(draft.amount, draft.source.currency)} to {payee_name}."
    )
    return redirect("pages:transfer", id=txn.pk)


@login_required
def transfer_detail(request: HttpRequest, id: UUID) -> HttpResponse:
    try:
        entry = transfer_get(user=request.user, id=id)
    except NotFound:
        raise Http404() from None
    context = {"entry": entry, "counterparty": counterparty_of(entry)}
    return render(request, "ledger/transfer_detail.html", context)
