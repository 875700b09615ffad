"""`python -m bench middleware`: what the bank's middleware stack costs an API request, in
this process, one request at a time, and each layer's share.

A bearer-token API request (the headers a client sends) goes through Django's WSGI handler to
a view that only does what DRF's authentication does to the Django request (names its user)
and answers a small JSON body: no database, no Redis, no DRF. It is timed with no middleware,
with the bank's whole stack (settings.MIDDLEWARE), and with the stack less one layer, for each
layer; every variant takes its turn in each of `--rounds` rounds, and the best round counts
(CPU time of this process: the least disturbed by the machine's other work). Log lines go to
/dev/null through the production handler and formatter.

Unlike `python -m bench pipeline`, whose runs differ by several per cent, this resolves a few
microseconds: use it for a change to a layer, the request log or the headers, then the
pipeline to see what the change is worth to a request under load. A layer's share is the
whole stack less the stack without it; they do not add up exactly to the whole (a layer can
make another's work cheaper or dearer: the request log names the user the auth layer
attached)."""

import argparse
import logging
import os
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import path

from bench.environment import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    bench_environment,
    setup_django,
)

PATH = "/api/v1/bench-middleware/"
HEADERS = {  # what a client of the API sends (python-requests), with its bearer token
    "Host": "127.0.0.1:8000",
    "User-Agent": "python-requests/2.32.3",
    "Accept-Encoding": "gzip, deflate",
    "Accept": "*/*",
    "Connection": "keep-alive",
    "Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.c2lnbmF0dXJl",
}


class SignedIn:
    """The user DRF's authentication puts on the Django request."""

    pk = uuid.UUID("5eed0000-0000-4000-8000-000000000001")
    is_authenticated = True
    is_active = True


def view(request: HttpRequest) -> HttpResponse:
    request.user = SignedIn()
    return HttpResponse(b'{"id": "5eed", "balance": 12550}', content_type="application/json")


urlpatterns = [path(PATH.lstrip("/"), view)]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--requests", type=int, default=4000, help="Per variant per round.")
    parser.add_argument("--rounds", type=int, default=3)


def _client(middleware: list[str]) -> Callable[[], None]:
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.utils import override_settings

    from bench.pipeline import Wsgi

    with override_settings(MIDDLEWARE=middleware):
        wsgi = Wsgi(WSGIHandler())  # the handler builds its chain from MIDDLEWARE now

    def request() -> None:
        status = wsgi("GET", PATH, None, HEADERS)
        if status != 200:
            raise RuntimeError(f"the stack answered {status}")

    return request


def measure(*, requests: int, rounds: int) -> dict[str, float]:
    """Microseconds of CPU per request: "none", "all", and "-<layer>" for the whole stack less
    that layer (the best of `rounds` rounds, each variant in turn). A layer another one needs
    (the sessions for the authentication) has no "-<layer>": the stack without it fails."""
    from django.conf import settings
    from django.test.utils import override_settings

    stack = list(settings.MIDDLEWARE)
    variants = {"none": [], "all": stack}
    for layer in stack:
        variants[f"-{layer}"] = [other for other in stack if other != layer]
    with override_settings(ROOT_URLCONF=__name__):
        clients = {}
        for name, middleware in variants.items():
            call = _client(middleware)
            try:
                for _ in range(max(1, requests // 10)):  # warm: imports, caches
                    call()
            except RuntimeError:  # a 500: a later layer needs this one (sessions, auth)
                if name in ("none", "all"):
                    raise
                continue
            clients[name] = call
        best = dict.fromkeys(clients, float("inf"))
        for _ in range(rounds):
            for name, call in clients.items():
                started = time.process_time()
                for _ in range(requests):
                    call()
                best[name] = min(best[name], (time.process_time() - started) / requests * 1e6)
    return best


def report(best: dict[str, float], layers: list[str]) -> str:
    whole = best["all"] - best["none"]
    lines = [
        f"The bank's middleware in front of an API request: {whole:.1f} us of CPU per request "
        f"(no middleware {best['none']:.1f} us, the whole stack {best['all']:.1f} us).",
        "",
        f"{'layer':52} {'us':>7}  share",
    ]
    for name in layers:
        value = best.get(f"-{name}")
        if value is None:
            lines.append(f"{name:52} {'-':>7}  (a later layer needs it)")
        else:
            saved = best["all"] - value
            lines.append(f"{name:52} {saved:7.1f}  {saved / whole:5.0%}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    env = bench_environment(database_url=DEFAULT_DATABASE_URL, redis_url=DEFAULT_REDIS_URL)
    env["LOG_LEVEL"] = "INFO"  # the request line is part of what a request costs
    setup_django(env)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115  # for the whole run
    from django.conf import settings

    best = measure(requests=args.requests, rounds=args.rounds)
    print(report(best, list(settings.MIDDLEWARE)))
    return 0
