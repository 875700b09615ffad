"""Form fields the apps' forms share (the portal's and the admin's alike)."""

from django import forms

from core.money import MAX_AMOUNT_TEXT, AmountError, parse_amount


class AmountField(forms.CharField):
    """Decimal text in a currency, cleaned to minor units by `core.money.parse_amount`.

    The currency is often known only once the form is bound (the account money leaves), so a
    form sets `field.currency` in its `__init__`; with no currency (the chosen account was not
    one of yours, already an error on its own field) the amount is not read at all and cleans
    to None. Spaces around the figures are dropped, as in every other field of a form (an
    amount pasted from a statement often carries them); spaces inside are refused."""

    widget = forms.TextInput

    def __init__(self, *, currency: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.currency = currency

    def widget_attrs(self, widget) -> dict:
        attrs = super().widget_attrs(widget)
        return {"inputmode": "decimal", "maxlength": str(MAX_AMOUNT_TEXT), **attrs}

    def clean(self, value) -> int | None:
        text = super().clean(value)  # the CharField's own checks: required, null characters
        if text in self.empty_values or self.currency is None:
            return None
        try:
            return parse_amount(text, self.currency)
        except AmountError as error:
            raise forms.ValidationError(str(error), code="invalid") from None
