"""The portal's pages for signing up, signing in and out, and the holder's details.

Plain Django views on session auth: they parse a form, call the same services and selectors
as the API, and render. A refusal from a service is shown beside the field it concerns.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters

from accounts.auth import email_key
from accounts.forms import LoginForm, ProfileForm, SignupForm
from accounts.selectors import profile_for
from accounts.services import register_customer, update_profile
from core import ratelimit
from core.clients import client_address
from core.errors import ValidationFailed, error_response
from core.pages import show_refusal
from core.ratelimit import RateLimited

HOME = "pages:dashboard"


def _next_url(request: HttpRequest) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@sensitive_post_parameters("password")
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(HOME)
    if request.method == "POST":
        try:
            ratelimit.hit("signup", client_address(request))
            ratelimit.hit("signup_email", email_key(request.POST.get("email")))
        except RateLimited as error:
            return error_response(request, error)
    form = SignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = register_customer(**form.cleaned_data)
        except ValidationFailed as error:
            show_refusal(form, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Welcome to Northwind Bank. Open your first account below.")
            return redirect(HOME)
    return render(request, "accounts/signup.html", {"form": form})


@sensitive_post_parameters("password")
def login_page(request: HttpRequest) -> HttpResponse:
    """Email and password. django-axes counts the failures inside `authenticate`; once an email
    is locked out from an address, its middleware answers with the 429 page instead of this.
    Above that, the rate limits: every attempt per address (one address trying one password
    against many emails) and every failure per email (many addresses against one email)."""
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_next_url(request) or HOME)
    email = email_key(request.POST.get("email"))
    if request.method == "POST":
        try:
            ratelimit.hit("login", client_address(request))
            ratelimit.check("login_email", email)
        except RateLimited as error:
            return error_response(request, error)
    form = LoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request, email=form.cleaned_data["email"], password=form.cleaned_data["password"]
        )
        if user is not None:
            login(request, user)
            return redirect(_next_url(request) or HOME)
        ratelimit.hit("login_email", email, refuse=False)
        form.add_error(None, "The email address or the password is not right.")
    context = {
        "form": form,
        "next": _next_url(request),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(request, "accounts/login.html", context)


def logout_page(request: HttpRequest) -> HttpResponse:
    """Log out is a POST (a link could be followed by a crawler); a GET asks to confirm."""
    if request.method == "POST":
        logout(request)
        messages.success(request, "You are logged out. See you soon.")
        return redirect("pages:landing")
    if not request.user.is_authenticated:
        return redirect("pages:landing")
    return render(request, "accounts/logout.html")


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    holder = profile_for(request.user)
    initial = {
        "first_name": holder.first_name,
        "last_name": holder.last_name,
        "phone": holder.phone,
        "address": holder.address,
        "date_of_birth": holder.date_of_birth,
    }
    form = ProfileForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            update_profile(user=request.user, **form.cleaned_data)
        except ValidationFailed as error:
            show_refusal(form, error)
        else:
            messages.success(request, "Your details are saved.")
            return redirect("pages:profile")
    return render(request, "accounts/profile.html", {"form": form, "holder": holder})


class PasswordChange(auth_views.PasswordChangeView):
    """Django's own: it checks the old password and the same validators as signing up, and
    keeps this session signed in."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("pages:profile")

    def post(self, request, *args, **kwargs):
        # Each try costs a password hash, and a wrong old password is a guess at it.
        try:
            ratelimit.hit("password_change", client_address(request))
            ratelimit.check("password_change_email", email_key(request.user.email))
        except RateLimited as error:
            return error_response(request, error)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        if "old_password" in form.errors:
            ratelimit.hit("password_change_email", email_key(self.request.user.email), refuse=False)
        return super().form_invalid(form)

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password is changed.")
        return response


password_change = PasswordChange.as_view()
