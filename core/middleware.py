import re
import time

import csp.constants
import csp.middleware
import structlog
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware
from django.utils.cache import add_never_cache_headers
from django.utils.http import http_date
from django_structlog.middlewares import RequestMiddleware
from django_structlog.signals import (
    bind_extra_request_failed_metadata,
    bind_extra_request_finished_metadata,
    bind_extra_request_metadata,
)

from core.clients import client_address
from core.db_router import mark_replica_down, note_write, replica_configured, replica_reads
from core.errors import RequestTooLarge, envelope, is_api

logger = structlog.get_logger(__name__)


# What an upstream id may look like: a uuid, a load balancer's trace id. Anything else (a
# newline forging a log line, a megabyte, markup for whoever reads the logs) is ignored.
UPSTREAM_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
UPSTREAM_IDS = (("request_id", "HTTP_X_REQUEST_ID"), ("correlation_id", "HTTP_X_CORRELATION_ID"))


@receiver(bind_extra_request_metadata, dispatch_uid="bank-bind-request-context")
def bind_request_context(request: HttpRequest, **kwargs) -> None:
    """What every log line of a request names besides django-structlog's fresh request id:

    - the client's address, as the lockout and the rate limits see it (core.clients), not
      django-ipware's reading of X-Forwarded-For;
    - the load balancer's X-Request-ID (as the request id) and X-Correlation-ID, when they
      look like ids, so that one request can be followed across hosts; a bad one is ignored
      and the request keeps its fresh uuid.

    django-structlog's own trust of the upstream ids (off in bankproject/settings.py) reads
    them through `request.headers`, which Django builds from every header for that alone:
    a sixth of what the request log cost a request besides its line."""
    context = {"ip": client_address(request)}
    for name, key in UPSTREAM_IDS:
        value = request.META.get(key)
        if value is not None and UPSTREAM_ID.fullmatch(value):
            context[name] = value
    structlog.contextvars.bind_contextvars(**context)


@receiver(bind_extra_request_finished_metadata, dispatch_uid="bank-finished-user-agent")
def name_the_user_and_agent(request: HttpRequest, log_kwargs: dict, **kwargs) -> None:
    """The request's one INFO line (`request_finished`) names the user (`bind_user`) and the
    user agent, which django-structlog puts only on `request_started` (at DEBUG here:
    bankproject/settings.py)."""
    bind_user(request)
    log_kwargs["user_agent"] = request.META.get("HTTP_USER_AGENT")


@receiver(bind_extra_request_failed_metadata, dispatch_uid="bank-failed-user")
def name_the_user_on_failure(request: HttpRequest, **kwargs) -> None:
    bind_user(request)


def bind_user(request: HttpRequest) -> None:
    """The request's user, as the request ends (`user_id`: None for nobody signed in), for its
    last line. django-structlog's own binding (off: DJANGO_STRUCTLOG_USER_ID_FIELD) also ran
    as the request began, when an API request's user is not yet known, and read the session
    for it: a fifth of what the request log cost an API request besides its line."""
    user = getattr(request, "user", None)
    user_id = user.pk if user is not None and user.is_authenticated else None
    structlog.contextvars.bind_contextvars(user_id=None if user_id is None else str(user_id))


class RequestLogMiddleware(RequestMiddleware):
    """django-structlog's request log (one `request_finished` line per request, every line
    of the request with its `request_id`: the client's X-Request-ID when it looks like an id,
    `bind_request_context` above), and the response carries the request id as `X-Request-ID`,
    so a client can quote it: set here, not in a layer of its own, as each layer a request
    passes costs it about as much as setting the header does."""

    def handle_response(self, request: HttpRequest, response: HttpResponse) -> None:
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        if request_id:
            response["X-Request-ID"] = request_id
        super().handle_response(request, response)  # which unbinds the request's context


class NoStoreMiddleware:
    """An API answer or a signed-in page holds someone's money and identity: no browser
    cache, shared proxy or back button on a shared computer may keep a copy."""

    # What Django's add_never_cache_headers() writes on a response that has neither header
    # (core/tests/test_headers.py holds the two equal). It parses and re-joins Cache-Control
    # twice to merge with what a view set, a fortieth of an authenticated GET's Python under
    # load; nearly every answer has nothing to merge.
    NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)  # unset when whitenoise served a static file
        if is_api(request) or (user is not None and user.is_authenticated):
            self.never_cache(response)
        return response

    @classmethod
    def never_cache(cls, response: HttpResponse) -> None:
        if "Cache-Control" in response or "Expires" in response:
            add_never_cache_headers(response)  # merged with the view's own directives
        else:
            response.headers["Expires"] = http_date()
            response.headers["Cache-Control"] = cls.NEVER_CACHE


class CSPMiddleware(csp.middleware.CSPMiddleware):
    """django-csp's, except that a JSON answer (the API's) gets one constant policy that lets
    nothing load and nothing frame it: there is no page to protect, only a document a browser
    should never run. django-csp builds its policy afresh for every response (and again for
    report-only), a twentieth of an authenticated GET's own Python. HTML (the portal, the
    API's docs page) keeps the site's policy (CONTENT_SECURITY_POLICY)."""

    JSON_POLICY = "default-src 'none'; frame-ancestors 'none'"

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if response.get("Content-Type", "").startswith("application/json"):
            response.headers.setdefault(csp.constants.HEADER, self.JSON_POLICY)
            return response
        return super().process_response(request, response)


class BodySizeLimitMiddleware:
    """Refuse a body over 1 MiB before anything reads it (DRF's parsers bypass Django's own
    DATA_UPLOAD_MAX_MEMORY_SIZE check)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BODY_BYTES:
            error = RequestTooLarge()
            return JsonResponse(envelope(error.code, error.message), status=error.http_status)
        return self.get_response(request)


class CommonMiddleware(DjangoCommonMiddleware):
    """Django's, without the trailing-slash redirect under /api/: a POST to a path without its
    slash is a plain 404 there instead of a redirect (or, in DEBUG, a RuntimeError)."""

    def should_redirect_with_slash(self, request: HttpRequest) -> bool:
        if is_api(request):
            return False
        return super().should_redirect_with_slash(request)


class MessageMiddleware(DjangoMessageMiddleware):
    """Django's, except under /api/: a JSON answer shows no message and no API code adds one
    (the portal's pages, which do, are not under /api/), and building the message storage
    (a cookie store and a session store) cost an API request a tenth of what the whole
    middleware stack did (`python -m bench middleware`). A message a page queued stays
    queued for the next page."""

    def process_request(self, request: HttpRequest) -> None:
        if not is_api(request):
            super().process_request(request)


class ReplicaReadsMiddleware:
    """With a read replica (core/db_router.py): a safe request (GET, HEAD, OPTIONS) lets its
    read-only selectors read the replica, and is answered again from the primary if the
    replica failed under it; after an unsafe one by a signed-in user, that user's reads go
    to the primary until the replica has replayed what they wrote. Placed
    after authentication (the portal's user) and around the views (DRF sets the API's user on
    the request). Without a replica it does nothing."""

    SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not replica_configured():
            return self.get_response(request)
        if request.method in self.SAFE_METHODS:
            with replica_reads() as reads:
                response = self.get_response(request)
            if reads.replica_failed and response.status_code >= 500:
                # The replica went away between the probe and a read: answer from the
                # primary instead (outside replica_reads(), every read is on the primary).
                mark_replica_down()
                response = self.get_response(request)
            return response
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            note_write(user)
        return response


class ApiExceptionMiddleware:
    """A bug under /api/ still answers with the envelope (never a stack trace or an HTML
    page, DEBUG or not); the exception is logged with its request id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api(request):
            return None
        logger.exception("unhandled_exception", path=request.path)
        return JsonResponse(
            envelope("server_error", "Something went wrong on our side. Nothing was changed."),
            status=500,
        )


def _epoch() -> int:
    return int(time.time())


@receiver(user_logged_in, dispatch_uid="bank-session-started")
def start_session_clock(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """A sign-in (even over a live session of the same user) starts both clocks afresh."""
    session = getattr(request, "session", None)
    if session is not None:
        now = _epoch()
        session[SessionLifetimeMiddleware.STARTED] = session[SessionLifetimeMiddleware.SEEN] = now


class SessionLifetimeMiddleware:
    """A portal session ends after `SESSION_IDLE_MINUTES` without a request, and at the latest
    `SESSION_MAX_HOURS` after sign-in, however busy. The user is logged out (the session is
    flushed) and a page request is sent to the login page with a message and a `next`; under
    /api/ the request simply goes on unauthenticated (401/403 from DRF).

    The session keeps two epoch seconds: the sign-in (`user_logged_in`; a session signed in
    before this middleware existed starts counting when first seen) and the last request. The
    last-seen time is written at most once a minute, so a busy session is not saved on every
    request. Sits after the auth and message middlewares.
    """

    STARTED = "_session_started_at"
    SEEN = "_session_seen_at"
    SEEN_WRITE_EVERY = 60  # seconds

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:  # the API's bearer requests
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = _epoch()
            started = request.session.get(self.STARTED)
            seen = request.session.get(self.SEEN)
            if not isinstance(started, int) or not isinstance(seen, int):
                request.session[self.STARTED] = request.session[self.SEEN] = now
            elif (
                now - seen >= settings.SESSION_IDLE_MINUTES * 60
                or now - started >= settings.SESSION_MAX_HOURS * 3600
            ):
                return self._end(request)
            elif now - seen >= self.SEEN_WRITE_EVERY:
                request.session[self.SEEN] = now
        return self.get_response(request)

    def _end(self, request: HttpRequest) -> HttpResponse:
        logout(request)  # flushes the session; request.user becomes anonymous
        if is_api(request):
            return self.get_response(request)
        messages.info(request, "Your session has ended. Please log in again.")
        return redirect_to_login(request.get_full_path())
