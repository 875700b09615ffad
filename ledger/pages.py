"""The portal's plain views: the dashboard (several resources at once) and the step-by-step
forms (open an account; a transfer, then its confirmation).

A page of one resource or one list (an account with its history, the transfers, a transfer) is
not here: it is the API's viewset in `ledger/views.py`, mounted again as a page
(`core/viewset_pages.py`). These views call the same selectors and services as the API
(`accounts_for`, `account_get`, `payee_get`, `transfer`...): whose account it is, whether the
money is there and how a retry is recognised are decided there, once. A view parses a form,
calls, and renders; a refusal is shown beside the field it concerns.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.selectors import profile_for
from core.currencies import format_money, to_major
from core.errors import BankError, NotFound, Replay, ValidationFailed
from core.pages import show_refusal
from ledger import services
from ledger.charts import charts_for
from ledger.forms import AccountOpenForm, TransferConfirmForm, TransferForm
from ledger.idempotency import Idempotency
from ledger.models import Account
from ledger.selectors import (
    account_get,
    accounts_for,
    payee_get,
    pending_holds_for,
    recent_entries_for,
)
from ledger.serializers import EntryOutput, transfer_response

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


# --- dashboard and accounts ---------------------------------------------------------------


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    accounts = list(accounts_for(request.user).order_by("created_at", "id"))
    charts = charts_for(accounts)
    totals: dict[str, int] = {}
    for account in accounts:
        totals[account.currency] = totals.get(account.currency, 0) + account.balance
    recent = recent_entries_for(accounts, limit=RECENT_ACTIVITY)
    names = {account.pk: account.nickname or account.get_type_display() for account in accounts}
    context = {
        "holder": profile_for(request.user),
        "accounts": [(account, charts[account.pk]) for account in accounts],
        "totals": sorted(totals.items()),
        "holds": [(hold, names[hold.account_id]) for hold in pending_holds_for(accounts)],
        # The history API's rows, as the account page shows them, with which account it was.
        "recent": [
            {**row, "account_name": entry.account.nickname or entry.account.get_type_display()}
            for entry, row in zip(recent, EntryOutput(recent, many=True).data, strict=True)
        ],
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
    source = payee = None
    amount = data.get("amount")  # minor units in the source's currency (AmountField)
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
    try:  # the API's rule for keys: a tampered key is the same 400 as there
        idempotency = Idempotency.from_request(
            request,
            key=request.POST.get("idempotency_key", ""),
            body=draft.fingerprint_body(),
            respond=transfer_response,
        )
    except ValidationFailed as error:
        show_refusal(form, error)
        return transfer_form_page(request, form, status=400)
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
