"""The portal's front door, and what every page view shares."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static

from core.errors import BankError, ValidationFailed


def landing(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("pages:dashboard")
    return render(request, "landing.html")


def show_refusal(form, error: BankError, field: str | None = None) -> None:
    """A service's refusal on the form: a validation error's messages beside the fields it
    names, any other refusal beside `field` (or above the form when it concerns none)."""
    if isinstance(error, ValidationFailed):
        for name, field_messages in error.details.items():
            for message in field_messages:
                form.add_error(name if name in form.fields else None, message)
        return
    form.add_error(field if field in form.fields else None, error.message)


def favicon(request: HttpRequest) -> HttpResponse:
    # Resolved per request, not at import: with the manifest storage, the hashed name exists
    # only once collectstatic has run.
    return redirect(static("img/logo.svg"), permanent=True)
