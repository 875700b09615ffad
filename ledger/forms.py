"""The portal's forms for accounts and transfers. Shape only: which accounts are yours, whether
a payee exists and whether the money is there are answered by selectors and services."""

from django import forms

from core.currencies import CURRENCY_CHOICES, format_money
from core.forms import AmountField
from ledger.models import Account
from ledger.numbers import (
    MAX_TYPED_LENGTH,
    AccountNumberError,
    format_account_number,
    validate_account_number,
)

ACCOUNT_TYPES = [(Account.Type.CHECKING, "Checking"), (Account.Type.SAVINGS, "Savings")]


class AccountOpenForm(forms.Form):
    type = forms.ChoiceField(
        label="Type of account", choices=ACCOUNT_TYPES, widget=forms.RadioSelect, initial="checking"
    )
    currency = forms.ChoiceField(
        label="Currency",
        choices=CURRENCY_CHOICES,
        initial="EUR",
        help_text="An account holds one currency; it cannot be changed later.",
    )
    nickname = forms.CharField(
        label="Nickname (optional)",
        max_length=140,
        required=False,
        help_text='A name only you see, e.g. "Holiday fund".',
    )


class TransferForm(forms.Form):
    """Step one of a transfer; the confirmation step posts the same fields back, hidden. The
    amount cleans to minor units in the currency of the account chosen to send from."""

    from_account = forms.ChoiceField(label="From")
    to_account_number = forms.CharField(
        label="Payee's account number",
        max_length=MAX_TYPED_LENGTH,
        help_text="Ten digits, e.g. 1234 5678 90. Spaces are fine.",
        widget=forms.TextInput({"inputmode": "numeric", "autocomplete": "off"}),
    )
    amount = AmountField(
        label="Amount",
        help_text="In the currency of the account you send from, e.g. 125.50.",
        widget=forms.TextInput({"autocomplete": "off"}),
    )
    description = forms.CharField(
        label="Reference (optional)",
        max_length=140,
        required=False,
        help_text="The payee sees it beside the payment.",
    )

    def __init__(self, *args, accounts: list[Account], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from_account"].choices = [
            (str(account.pk), account_label(account)) for account in accounts
        ]
        currencies = {str(account.pk): account.currency for account in accounts}
        self.fields["amount"].currency = currencies.get(
            self.data.get(self.add_prefix("from_account"))
        )

    def clean_to_account_number(self) -> str:
        try:
            return validate_account_number(self.cleaned_data["to_account_number"])
        except AccountNumberError as error:
            raise forms.ValidationError(str(error)) from None


class TransferConfirmForm(TransferForm):
    """The confirmation: the same fields, and `action`: "send", or "edit" to go back to the
    form. The idempotency key it also carries is read by `Idempotency.from_request`, whose
    rule for keys is the API's."""

    action = forms.ChoiceField(choices=[("send", "send"), ("edit", "edit")])


class HistoryFilterForm(forms.Form):
    """The history's date window. Parsed by the same code as the API's `since` and `until`."""

    since = forms.CharField(label="From", required=False, widget=forms.DateInput({"type": "date"}))
    until = forms.CharField(label="To", required=False, widget=forms.DateInput({"type": "date"}))


def account_label(account: Account) -> str:
    name = account.nickname or account.get_type_display()
    return (
        f"{name} · {format_money(account.balance, account.currency)} · "
        f"{format_account_number(account.number)}"
    )
