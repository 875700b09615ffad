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


def email_key(raw: object) -> str:
    """The email a rate limit counts by (core.ratelimit): case and spaces do not make another,
    and anything that is not text (a JSON number, a list) counts as the empty one."""
    return raw.strip().lower()[:254] if isinstance(raw, str) else ""
