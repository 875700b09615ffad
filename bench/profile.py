"""`python -m bench profile`: POST /api/v1/transfers/ in this process through the WSGI
application (the same middleware, auth, throttle and view as under gunicorn), on the bench's
PostgreSQL database: SQL queries and cache calls per transfer, then a pyinstrument profile."""

import argparse
import cProfile
import io
import json
import pstats
import random
import sys
import time
import uuid
from datetime import timedelta

from bench import database
from bench.environment import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    bench_environment,
    setup_django,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--requests", type=int, default=1000, help="Profiled requests (1000).")
    parser.add_argument("--shape", choices=["random", "hot"], default="random")
    parser.add_argument("--target", choices=["http", "service"], default="http")
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.001, help="Sampling, s (0.001).")
    parser.add_argument("--html", help="Also write pyinstrument's HTML report here.")
    parser.add_argument("--show-queries", action="store_true", help="Print one request's SQL.")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="Override the bench's environment, e.g. DJANGO_SETTINGS_MODULE=bench.variants.x.",
    )


class Wsgi:
    """Calls the WSGI application as gunicorn would, without a socket."""

    def __init__(self):
        from django.core.wsgi import get_wsgi_application

        self.app = get_wsgi_application()

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": headers.pop("Content-Type", "application/json"),
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        for name, value in headers.items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        status: list[str] = []

        def start_response(line, _headers, _exc_info=None):
            status.append(line)

        chunks = self.app(environ, start_response)
        try:
            content = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        return int(status[0].split()[0]), content


def count_cache_calls():
    """Count this process's round trips to Redis (bench.pipeline.count_redis_round_trips)."""
    from bench.pipeline import count_redis_round_trips

    calls = {"n": 0}
    count_redis_round_trips(lambda: calls.__setitem__("n", calls["n"] + 1))
    return calls


def run(args: argparse.Namespace) -> int:
    from pyinstrument import Profiler

    env = bench_environment(database_url=args.database_url, redis_url=args.redis_url)
    env.update(assignment.split("=", 1) for assignment in args.env)
    database.ensure_database(args.database_url, fresh=False)
    setup_django(env)
    database.migrate()
    fixture = database.seed(args.customers, lifetime=timedelta(hours=4), say=print)
    database.analyze(args.database_url)

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.service import pick
    from ledger import services

    rng = random.Random(7)
    wsgi = Wsgi()

    def one() -> None:
        source, destination = pick(rng, fixture, args.shape)
        amount = rng.randint(1, 100)
        if args.target == "service":
            services.transfer(
                from_account=source.account.pk,
                to_account_number=destination.account.number,
                amount=amount,
                initiated_by=source.user,
            )
            return
        body = json.dumps(
            {
                "from_account": str(source.account.pk),
                "to_account_number": destination.account.number,
                "amount": amount,
            }
        ).encode()
        status, content = wsgi.post(
            "/api/v1/transfers/",
            body,
            {
                "Content-Type": "application/json",
                "Authorization": f"Bearer {source.token}",
                "Idempotency-Key": uuid.uuid4().hex,
            },
        )
        if status != 201:
            raise RuntimeError(f"{status}: {content[:300]!r}")

    for _ in range(100 + 2 * len(fixture.customers)):  # warm: imports, connections, caches
        one()
    cache_calls = count_cache_calls()
    before = cache_calls["n"]
    with CaptureQueriesContext(connection) as captured:
        for _ in range(10):
            one()
    captured_queries = captured.captured_queries  # a property: read it before anything resets
    queries = len(captured_queries) / 10
    cache = (cache_calls["n"] - before) / 10
    print(f"{args.target} {args.shape}: {queries:g} queries, {cache:g} cache calls per transfer")
    if args.show_queries:
        for query in captured_queries[: round(queries)]:
            print(f"  {query['time']}s  {query['sql'][:220]}")

    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(args.requests):
        one()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    each, cpu_each = elapsed / args.requests * 1000, cpu / args.requests * 1000
    print(
        f"{args.requests} transfers one at a time, no profiler: {each:.2f} ms each, "
        f"{cpu_each:.2f} ms of this process's CPU"
    )

    calls = cProfile.Profile()
    calls.enable()
    for _ in range(100):
        one()
    calls.disable()
    total = sum(stat[1] for stat in pstats.Stats(calls).stats.values())  # all calls
    print(f"{total / 100:.0f} Python function calls per transfer (cProfile, 100 transfers)")

    profiler = Profiler(interval=args.interval)
    started = time.perf_counter()
    profiler.start()
    for _ in range(args.requests):
        one()
    profiler.stop()
    elapsed = time.perf_counter() - started
    print(
        f"{args.requests} transfers in {elapsed:.2f} s: {elapsed / args.requests * 1000:.2f} ms "
        f"each, one at a time, profiler on"
    )
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    if args.html:
        with open(args.html, "w") as out:
            out.write(profiler.output_html())
        print(f"HTML report: {args.html}")
    connection.close()
    return 0
