"""The portal's forms for signing up, signing in and the holder's details. Shape only: the
rules (password strength, unique email) are the services' and come back as their errors."""

from django import forms

from accounts.validators import validate_date_of_birth, validate_phone


class SignupForm(forms.Form):
    first_name = forms.CharField(
        label="First name", max_length=100, widget=forms.TextInput({"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label="Last name", max_length=100, widget=forms.TextInput({"autocomplete": "family-name"})
    )
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput({"autocomplete": "email"}),
        help_text="You sign in with it.",
    )
    password = forms.CharField(
        label="Password",
        max_length=128,
        strip=False,
        widget=forms.PasswordInput({"autocomplete": "new-password"}),
        help_text="At least 10 characters, not a common password, not like your name.",
    )


class LoginForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput({"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label="Password",
        max_length=128,
        strip=False,
        widget=forms.PasswordInput({"autocomplete": "current-password"}),
    )


class ProfileForm(forms.Form):
    first_name = forms.CharField(
        label="First name", max_length=100, widget=forms.TextInput({"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label="Last name", max_length=100, widget=forms.TextInput({"autocomplete": "family-name"})
    )
    phone = forms.CharField(
        label="Phone",
        max_length=32,
        required=False,
        validators=[validate_phone],
        widget=forms.TextInput({"autocomplete": "tel", "inputmode": "tel"}),
        help_text="With the country code, e.g. +44 20 7946 0000.",
    )
    address = forms.CharField(
        label="Address",
        max_length=300,
        required=False,
        widget=forms.Textarea({"rows": 3, "autocomplete": "street-address"}),
    )
    date_of_birth = forms.DateField(
        label="Date of birth",
        required=False,
        validators=[validate_date_of_birth],
        widget=forms.DateInput({"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )
