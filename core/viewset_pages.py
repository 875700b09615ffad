"""Pages from the same viewsets as the API: one view, one permission check, one pagination.

A page that shows one resource or one list is the DRF viewset that serves its JSON, mounted a
second time under the page URL with an HTML renderer. The page runs the viewset's own
`get_queryset`, `get_object`, permissions, throttles and pagination; the template receives what
the serializer gives (a paginated list as `results`, `next`, `previous`), plus what the
viewset's `page_context()` adds, and formats it with template filters.

What changes on a page is only what a browser needs: session authentication (an anonymous
visitor is sent to the login page, not answered with a JSON 401), the HTML renderer whatever
the `Accept` header or `?format=` say, no entry in the OpenAPI schema, and refusals as the
portal's pages: an unknown or foreign id is the 404 page, bad query parameters (a forged
cursor, a bad date) the 400 page, too many requests the 429 page with `Retry-After`.

Mounting a viewset as pages (e.g. cards): add the mixin in `cards/views.py`, two paths in
`cards/urls.py`, two templates::

    class CardViewSet(PageMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
        ...  # the API viewset as it is

    page_urlpatterns = [  # bankproject/urls.py puts them in the portal's "pages" namespace
        path("cards/", CardViewSet.as_page({"get": "list"}, template_name="cards/list.html"),
             name="cards"),
        path("cards/<uuid:id>/", CardViewSet.as_page({"get": "retrieve"},
             template_name="cards/card.html"), name="card"),
    ]

Page URLs name their id `id` (the portal's convention: `redirect("pages:transfer", id=...)`);
the page hands it on under the name the API's router uses (`pk`), so the viewset's own
`get_object` and actions run unchanged. An `@action`'s settings (its `pagination_class`) apply
on the page as the router applies them on the API.

Hooks, on the viewset: `page_context(data)` adds extras beside the serializer's data (a chart,
a filter form); `get_object()` is memoised for the request on a page, so `page_context` reuses
the object the action looked up instead of looking it up (and checking it) again.
`page_refusal(error)` shows bad input beside a form field on the page itself (with status 400)
instead of the portal's 400 page.
"""

from functools import cache
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation
from rest_framework.renderers import TemplateHTMLRenderer

from core.errors import BankError, ValidationFailed, handler400, handler403, handler404

PAGE_LOOKUP_URL_KWARG = "id"


class PageRenderer(TemplateHTMLRenderer):
    """The serializer's data as the template's context, with the view's `page_context()`."""

    def get_template_context(self, data: Any, renderer_context: dict) -> dict:
        context = dict(data) if isinstance(data, dict) else {"results": data}
        context.update(renderer_context["view"].page_context(context))
        return context


class PageNegotiation(BaseContentNegotiation):
    """A page is HTML whatever the client asks for: `Accept: application/json` or
    `?format=json` on a page URL get the page, not a 406 or a 404."""

    def select_parser(self, request, parsers):
        # A page's form posts urlencoded, or multipart (a test client's default): the parser
        # for the body's type among the page's own, else its first.
        chosen = DefaultContentNegotiation().select_parser(request, parsers)
        return chosen or (parsers[0] if parsers else None)

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def error_page(request: HttpRequest, status: int, message: str) -> HttpResponse:
    return render(
        request, "errors/error.html", {"status": status, "message": message}, status=status
    )


class PageMixin:
    """Adds `as_page()` to a DRF viewset. On the API nothing changes."""

    is_page = False
    template_name: str | None = None

    @classmethod
    def as_page(cls, actions: dict[str, str], *, template_name: str, **initkwargs):
        """The viewset's `actions` as a page rendered with `template_name`."""
        settings: dict = {}
        for name in actions.values():  # an @action's own settings, as the router applies them
            settings.update(getattr(getattr(cls, name), "kwargs", {}))
        settings.update(initkwargs)
        settings.update(
            is_page=True,
            template_name=template_name,
            renderer_classes=[PageRenderer],
            authentication_classes=[SessionAuthentication],
            content_negotiation_class=PageNegotiation,
            schema=None,  # the OpenAPI schema describes the API, not its pages
        )
        return cls.as_view(actions, **settings)

    def page_context(self, data: dict) -> dict:
        """Extras for the template beside the serializer's data; override per viewset."""
        return {}

    def page_refusal(self, error: ValidationFailed) -> dict | None:
        """The page's own context when it can show `error` beside a form field (answered 400
        with the page itself), or None for the portal's 400 page."""
        return None

    def dispatch(self, request, *args, **kwargs):
        if self.is_page and PAGE_LOOKUP_URL_KWARG in kwargs:
            kwargs[self.lookup_url_kwarg or self.lookup_field] = kwargs.pop(PAGE_LOOKUP_URL_KWARG)
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        if self.is_page:
            # One lookup per request: page_context() gets the object the action already got.
            self.get_object = cache(self.get_object)
        super().initial(request, *args, **kwargs)

    def handle_exception(self, exc: Exception):
        if not self.is_page:
            return super().handle_exception(exc)
        request = self.request
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            return redirect_to_login(request.get_full_path())
        if isinstance(exc, Http404 | exceptions.NotFound) or (
            isinstance(exc, BankError) and exc.http_status == 404
        ):
            return handler404(request)  # unknown or someone else's: the same page
        if isinstance(exc, DjangoPermissionDenied | exceptions.PermissionDenied):
            return handler403(request)
        if isinstance(exc, exceptions.Throttled):
            wait = int(exc.wait or 0) + 1
            response = error_page(request, 429, f"Too many requests. Try again in {wait} s.")
            response["Retry-After"] = str(wait)
            return response
        if isinstance(exc, ValidationFailed):
            context = self.page_refusal(exc)
            if context is not None:
                return render(request, self.template_name, context, status=400)
            return handler400(request)
        # Django's own ValidationError here is a query value a field refused (a forged
        # cursor's position): bad input, never a 500.
        if isinstance(
            exc, exceptions.ValidationError | exceptions.ParseError | DjangoValidationError
        ):
            return handler400(request)
        if isinstance(exc, exceptions.MethodNotAllowed):
            response = error_page(request, 405, "This page cannot do that.")
            response["Allow"] = ", ".join(self.allowed_methods)
            return response
        if isinstance(exc, BankError):
            return error_page(request, exc.http_status, exc.message)
        self.raise_uncaught_exception(exc)
