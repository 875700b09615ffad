"""The cards page's forms. The daily limit is typed in the account's currency ("500.00") and
cleaned to minor units, as every amount on the portal is; the service checks the rest."""

from django import forms

from core.forms import AmountField
from ledger.forms import account_label
from ledger.models import Account


class CardIssueForm(forms.Form):
    account = forms.ChoiceField(label="Account the card pays from")
    daily_limit = AmountField(
        label="Daily limit (optional)",
        required=False,
        help_text="In the account's currency, e.g. 500.00. Leave empty for the bank's default.",
        widget=forms.TextInput({"autocomplete": "off"}),
    )

    def __init__(self, *args, accounts: list[Account], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [(str(a.pk), account_label(a)) for a in accounts]
        currencies = {str(a.pk): a.currency for a in accounts}
        self.fields["daily_limit"].currency = currencies.get(self.data.get("account"))


class CardLimitForm(forms.Form):
    daily_limit = AmountField(
        label="New daily limit",
        help_text="In the account's currency, e.g. 500.00.",
        widget=forms.TextInput({"autocomplete": "off"}),
    )

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["daily_limit"].currency = currency
