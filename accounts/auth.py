from django.http import HttpRequest

from accounts.models import UserManager


def axes_username(request: HttpRequest, credentials: dict | None = None) -> str:
    """django-axes counts failures per (email, address); emails compare case-insensitively."""
    if credentials and credentials.get("email"):
        return UserManager.normalize_email(credentials["email"])
    if credentials and credentials.get("username"):
        return UserManager.normalize_email(credentials["username"])
    data = getattr(request, "data", None) or request.POST
    return UserManager.normalize_email(data.get("email") or data.get("username") or "")
