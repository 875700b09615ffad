"""The portal's URLs plus two that fail on purpose, so the browser tests can look at the 403
and 500 pages as a customer would see them."""

from django.core.exceptions import PermissionDenied
from django.urls import path

from bankproject.urls import handler400, handler403, handler404, handler500, urlpatterns


def forbidden(request):
    raise PermissionDenied


def broken(request):
    raise RuntimeError("a bug, on purpose")


urlpatterns = [
    path("test-only/forbidden/", forbidden),
    path("test-only/broken/", broken),
    *urlpatterns,
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
