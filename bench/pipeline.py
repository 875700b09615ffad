"""`python -m bench pipeline`: what the bank adds around a request, against the framework.

One run starts two gunicorns (bench/gunicorn.conf.py) on the bench's PostgreSQL database with
Redis as the cache, in production mode:

- the bank, as it is deployed (every middleware, JWT authentication, throttles, request
  logging at LOG_LEVEL, INFO as in production), with one extra URL: the bare view
  (bench/bare.py), so "bare, behind the bank's middleware" is measured too;
- the yardstick: the same Django, DRF and database settings with no middleware, serving the
  bare view (one ORM read by primary key, no authentication, no throttle).

It measures with N client threads (keep-alive connections): the bare view on the yardstick,
the bare view behind the bank's middleware, and an authenticated `GET /api/v1/accounts/{id}/`
(each client its own customer and token); then transfers (`POST /api/v1/transfers/`, a fresh
Idempotency-Key each) at 1, 8 and 32 clients between random accounts and from one hot
account, each beside pgbench's transfer-shaped script in the same run; then the targets'
scenarios (the bare view, the GET, the 8-client random transfers) once more, taking turns of a
few seconds for several rounds (`interleaved`), and each target's ratio is taken from those
rows: the machine's speed drifts within minutes, and turns of seconds meet the same drift.
Beside every HTTP figure: the gunicorn workers' CPU per request (from /proc, user + system);
in the interleaved phase also PostgreSQL's, Redis's and the load generator's. Afterwards, in
this process through the WSGI application, the database and Redis round trips and the Python
CPU of one request of each kind.
"""

import argparse
import http.client
import io
import json
import os
import platform
import random
import sys
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bench import database, pgbench, web
from bench.environment import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    bench_environment,
    setup_django,
)
from bench.load import drive
from bench.stats import Result, merge, pool

BANK_SETTINGS = "bench.variants.pipeline"
BARE_SETTINGS = "bench.variants.bare"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
B = "(B)"  # the label's mark of the A/B comparison's second bank (--compare-env, --compare-tree)

# (what, numerator row, denominator row, at least): the rows of the interleaved phase
TARGETS = [
    ("authenticated GET / bare view", "GET account, interleaved", "bare, interleaved", 0.5),
    (
        "transfers x8 random / authenticated GET",
        "transfer random x8, interleaved",
        "GET account, interleaved",
        0.6,
    ),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--seconds", type=float, default=8.0, help="Per scenario (8).")
    parser.add_argument("--warmup", type=float, default=1.5, help="Per scenario (1.5).")
    parser.add_argument("--clients", type=int, default=8, help="Clients for the GETs (8).")
    parser.add_argument("--transfer-clients", default="1,8,32", help="(1,8,32)")
    parser.add_argument("--shapes", default="random,hot", help="random and/or hot.")
    parser.add_argument("--customers", type=int, default=1000, help="Funded customers (1000).")
    parser.add_argument("--log-level", default="INFO", help="The bank's LOG_LEVEL (INFO).")
    parser.add_argument("--skip-transfers", action="store_true", help="Only the GETs.")
    parser.add_argument(
        "--rounds", type=int, default=6, help="Rounds of the interleaved phase (6)."
    )
    parser.add_argument(
        "--slice", type=float, default=3.0, help="Seconds per scenario per round (3)."
    )
    parser.add_argument("--fresh", action="store_true", help="Drop and recreate the database.")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="Override the bank's environment (not the yardstick's), e.g. a switch under test.",
    )
    parser.add_argument(
        "--compare-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="A/B: a second bank gunicorn (B) with this environment too; the interleaved phase "
        "takes B's GET and transfers in turn with the bank's (A).",
    )
    parser.add_argument(
        "--compare-tree",
        metavar="PATH",
        help="A/B: B serves the code of this checkout (e.g. `git worktree add /tmp/before "
        "<commit>`), with this one's environment and --compare-env.",
    )


@dataclass
class Row:
    label: str
    result: Result
    server_cpu_ms: float | None = None  # the gunicorn workers' CPU per answered request
    notes: list[str] = field(default_factory=list)
    # CPU ms per request of everything else on the machine (the interleaved phase only):
    # PostgreSQL (every backend of the cluster), Redis, this process (the clients)
    other_cpu_ms: dict[str, float] = field(default_factory=dict)


def _processes():
    """(pid, name, the fields after the name) of every process, from /proc/<pid>/stat."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                text = stat.read()
        except OSError:  # gone since the listing
            continue
        name_ends = text.rindex(")")
        yield int(entry.name), text[text.index("(") + 1 : name_ends], text[name_ends + 2 :].split()


def _cpu_seconds(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def process_tree_cpu(master: int) -> float:
    """Seconds of CPU (user + system) used so far by gunicorn's master and its workers."""
    return sum(
        _cpu_seconds(fields)
        for pid, _name, fields in _processes()
        if master in (pid, int(fields[1]))  # fields[1]: the parent's pid
    )


def processes_cpu(name: str) -> float:
    """Seconds of CPU (user + system) used so far by every process whose name starts with
    `name` ("postgres": the cluster's backends and its own workers; "redis-server")."""
    return sum(_cpu_seconds(fields) for _pid, comm, fields in _processes() if comm.startswith(name))


class Client:
    """One keep-alive connection; GET or POST, returning the status."""

    def __init__(self, port: int, seed: str):
        self.port = port
        self.rng = random.Random(seed)
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def send(self, method: str, path: str, body: bytes | None, headers: dict) -> int:
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            self.conn.close()
            raise


def http_scenario(
    *, label: str, port: int, master: int, clients: int, seconds: float, warmup: float, request
) -> Row:
    """`request(client, index)` -> (method, path, body, headers, expected status)."""

    def setup(index: int) -> tuple[Client, int]:
        return Client(port, f"{label}-{index}"), index

    def operation(state) -> str | None:
        client, index = state
        method, path, body, headers, expected = request(client, index)
        try:
            status = client.send(method, path, body, headers)
        except (OSError, http.client.HTTPException) as error:
            return type(error).__name__
        return None if status == expected else f"HTTP {status}"

    def teardown(state) -> None:
        state[0].conn.close()

    cpu_before = process_tree_cpu(master)
    result = drive(
        scenario=label,
        shape="",
        clients=clients,
        seconds=seconds,
        warmup=warmup,
        setup=setup,
        operation=operation,
        teardown=teardown,
    )
    cpu = process_tree_cpu(master) - cpu_before
    per_request = cpu / result.operations * 1000 if result.operations else None
    return Row(label=label, result=result, server_cpu_ms=per_request)


@dataclass
class Slice:
    """One scenario's turn in the interleaved phase: its HTTP row and the CPU seconds
    PostgreSQL and Redis used during it (the load generator's own is the row's
    `result.cpu_seconds`)."""

    row: Row
    database_cpu: float
    redis_cpu: float


def combine(label: str, slices: list[Slice]) -> Row:
    """One row from a scenario's turns: requests and seconds summed (so the rate is over all
    of its turns), every latency, and CPU per request (every request, warm-up included, as
    `http_scenario` counts the server's) of the workers and of the other processes."""
    result = pool([s.row.result for s in slices])
    row = Row(label=label, result=result)
    if result.operations:
        per_request = 1000 / result.operations
        server = [(s.row.server_cpu_ms or 0) * s.row.result.operations for s in slices]
        row.server_cpu_ms = sum(x / 1000 for x in server if x) * per_request
        row.other_cpu_ms = {
            "PostgreSQL": sum(s.database_cpu for s in slices) * per_request,
            "Redis": sum(s.redis_cpu for s in slices) * per_request,
            "clients": sum(s.row.result.cpu_seconds or 0 for s in slices) * per_request,
        }
    return row


def interleaved(scenarios, *, rounds: int, seconds: float, warmup: float) -> list[Row]:
    """`scenarios` ((label, port, master, clients, request), ...) in turn, `seconds` each,
    `rounds` times over, and one row per scenario from all of its turns. Run one after another
    for minutes, scenarios meet a machine that drifts by a third within minutes (pgbench's rate
    on the same script, sessions 7 and 8); taking turns every few seconds, they meet the same
    drift, so a ratio between two of them says what the code costs, not when it ran."""
    turns: dict[str, list[Slice]] = {label: [] for label, *_ in scenarios}
    for round_ in range(rounds):
        # Each round starts one scenario later, so that none always follows the same other
        # (the bare view and the GET run on different gunicorns).
        start = round_ % len(scenarios)
        for label, port, master, clients, request in scenarios[start:] + scenarios[:start]:
            database, redis = processes_cpu("postgres"), processes_cpu("redis")
            row = http_scenario(
                label=label,
                port=port,
                master=master,
                clients=clients,
                seconds=seconds,
                warmup=warmup,
                request=request,
            )
            turns[label].append(
                Slice(
                    row=row,
                    database_cpu=processes_cpu("postgres") - database,
                    redis_cpu=processes_cpu("redis") - redis,
                )
            )
    return [combine(label, slices) for label, slices in turns.items()]


def transfer_request(fixture, shape: str):
    def request(client: Client, _index: int):
        if shape == "hot":
            source, destination = fixture.hot, client.rng.choice(fixture.customers)
        else:
            source, destination = client.rng.sample(fixture.customers, 2)
        body = json.dumps(
            {
                "from_account": str(source.account.pk),
                "to_account_number": destination.account.number,
                "amount": client.rng.randint(1, 100),
            }
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {source.token}",
            "Idempotency-Key": uuid.uuid4().hex,
        }
        return "POST", "/api/v1/transfers/", body, headers, 201

    return request


def account_request(fixture):
    def request(_client: Client, index: int):
        party = fixture.customers[index % len(fixture.customers)]
        headers = {"Authorization": f"Bearer {party.token}"}
        return "GET", f"/api/v1/accounts/{party.account.pk}/", None, headers, 200

    return request


def bare_request(fixture):
    def request(_client: Client, index: int):
        party = fixture.customers[index % len(fixture.customers)]
        return "GET", f"/bench/bare/{party.account.pk}/", None, {}, 200

    return request


# --- round trips and CPU of one request, in this process ---------------------------------


class Wsgi:
    """Calls the WSGI application as gunicorn would, without a socket (`app`: another handler,
    e.g. one with another middleware stack; the project's own by default)."""

    def __init__(self, app=None):
        from django.core.wsgi import get_wsgi_application

        self.app = app or get_wsgi_application()

    def __call__(self, method: str, path: str, body: bytes | None, headers: dict) -> int:
        body = body or b""
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        headers = dict(headers)
        if "Content-Type" in headers:
            environ["CONTENT_TYPE"] = headers.pop("Content-Type")
        for name, value in headers.items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        status: list[str] = []
        chunks = self.app(environ, lambda line, _headers, _exc=None: status.append(line))
        try:
            b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        return int(status[0].split()[0])


def count_redis_round_trips(count) -> None:
    """Call `count()` on every round trip to Redis in this process, whoever makes it (Django's
    cache, core/shared_state.py): every command sent alone, and every pipeline once."""
    import redis

    send, execute = redis.Redis.execute_command, redis.client.Pipeline.execute

    def command(self, *args, **kwargs):
        count()
        return send(self, *args, **kwargs)

    def pipeline(self, *args, **kwargs):
        count()
        return execute(self, *args, **kwargs)

    redis.Redis.execute_command = command
    redis.client.Pipeline.execute = pipeline


class RoundTrips:
    """Counts this process's round trips: to the database (every statement, BEGIN and
    COMMIT/ROLLBACK of a transaction, and Django's connection health check) and to Redis
    (every command sent alone, every pipeline once)."""

    def __init__(self):
        from django.db import DEFAULT_DB_ALIAS, connections

        self.database = 0
        self.redis = 0
        self.statements: list[str] = []
        wrapper_class = type(connections[DEFAULT_DB_ALIAS])
        counter = self

        def wrap(name, extra=0):
            original = getattr(wrapper_class, name)

            def counted(self, *args, **kwargs):
                counter.database += 1 + extra
                if name != "is_usable":
                    counter.statements.append("BEGIN; COMMIT" if extra else name.strip("_"))
                else:
                    counter.statements.append("SELECT 1 (health check)")
                return original(self, *args, **kwargs)

            setattr(wrapper_class, name, counted)

        wrap("_commit", extra=1)  # BEGIN went out before the transaction's first statement
        wrap("_rollback", extra=1)
        wrap("is_usable")

        def execute(execute, sql, params, many, context):
            counter.database += 1
            counter.statements.append(sql)
            return execute(sql, params, many, context)

        self._execute = execute
        count_redis_round_trips(lambda: setattr(counter, "redis", counter.redis + 1))

    def measure(self, call, times: int) -> tuple[float, float, list[str]]:
        from django.db import connection

        self.database = self.redis = 0
        self.statements = []
        with connection.execute_wrapper(self._execute):
            for _ in range(times):
                call()
        return self.database / times, self.redis / times, self.statements


def in_process(fixture, *, times: int = 200) -> dict[str, dict]:
    """Per request of each kind, one at a time in this process: database and Redis round
    trips, Python CPU (this process: the request's own, no server around it)."""
    wsgi = Wsgi()
    rng = random.Random(11)
    client = Client.__new__(Client)
    client.rng = rng
    kinds = {
        "bare": bare_request(fixture),
        "GET account": account_request(fixture),
        "transfer": transfer_request(fixture, "random"),
    }
    figures = {}
    counter = RoundTrips()
    for label, request in kinds.items():

        def call(request=request, label=label):
            method, path, body, headers, expected = request(client, rng.randrange(10**6))
            status = wsgi(method, path, body, headers)
            if status != expected:
                raise RuntimeError(f"{label}: HTTP {status}")

        for _ in range(2 * len(fixture.customers) + 50):  # warm: connections, caches
            call()
        database_trips, redis_trips, statements = counter.measure(call, 10)
        cpu = time.process_time()
        for _ in range(times):
            call()
        cpu_ms = (time.process_time() - cpu) / times * 1000
        figures[label] = {
            "database": database_trips,
            "redis": redis_trips,
            "cpu_ms": cpu_ms,
            "statements": statements[: max(1, round(database_trips))],
        }
    return figures


# --- the run ----------------------------------------------------------------------------


def say(message: str = "") -> None:
    print(message, flush=True)


def run(args: argparse.Namespace) -> int:
    env = bench_environment(database_url=args.database_url, redis_url=args.redis_url)
    env["LOG_LEVEL"] = args.log_level
    env["DJANGO_SETTINGS_MODULE"] = BANK_SETTINGS
    bank_env = {**env, **dict(a.split("=", 1) for a in args.env)}
    bare_env = {**env, "DJANGO_SETTINGS_MODULE": BARE_SETTINGS}
    say(f"bench pipeline on {platform.node()}: {os.cpu_count()} CPUs, load {os.getloadavg()}")
    say(f"  database {args.database_url}; {args.seconds:g} s per scenario")
    database.ensure_database(args.database_url, fresh=args.fresh)
    setup_django(bank_env)
    database.migrate()
    lifetime = timedelta(seconds=(args.seconds + args.warmup) * 100 + 3600)
    fixture = database.seed(args.customers, lifetime=lifetime, say=say)
    from django.db import connection

    connection.close()
    database.analyze(args.database_url)
    shapes = [s for s in args.shapes.split(",") if s]
    transfer_clients = [int(c) for c in args.transfer_clients.split(",") if c]
    if not args.skip_transfers:
        pgbench.prepare(args.database_url, accounts=args.customers)

    log_path = Path(os.environ.get("VAR_DIR", "var")) / "bench" / "pipeline.log"
    rows: list[Row] = []
    common = {"seconds": args.seconds, "warmup": args.warmup}

    def show(row: Row) -> Row:
        r = row.result
        cpu = f"  server CPU {row.server_cpu_ms:.2f} ms/req" if row.server_cpu_ms else ""
        p95 = f"{r.p95_ms:.1f}" if r.p95_ms is not None else "-"
        kinds = f" {r.error_kinds}" if r.error_kinds else ""
        say(f"  {row.label:26} {r.tps:7.0f}/s  p95 {p95} ms  errors {r.errors}{kinds}{cpu}")
        rows.append(row)
        return row

    with ExitStack() as stack:
        bank_port, bank = stack.enter_context(web.gunicorn_process(bank_env, log_path=log_path))
        bare_port, bare = stack.enter_context(web.gunicorn_process(bare_env, log_path=log_path))
        say(f"  gunicorns up: bank :{bank_port}, yardstick :{bare_port} (log {log_path})")
        compare = None
        if args.compare_env or args.compare_tree:
            b_env = {**bank_env, **dict(a.split("=", 1) for a in args.compare_env)}
            b_root = Path(args.compare_tree).resolve() if args.compare_tree else web.ROOT
            compare = stack.enter_context(
                web.gunicorn_process(b_env, log_path=log_path, root=b_root)
            )
            say(f"  B :{compare[0]}: {b_root}, {' '.join(args.compare_env) or 'same environment'}")
        gets = [
            ("bare", bare_port, bare.pid, bare_request(fixture)),
            ("bare behind bank middleware", bank_port, bank.pid, bare_request(fixture)),
            ("GET account", bank_port, bank.pid, account_request(fixture)),
        ]
        for label, port, master, request in gets:
            show(
                http_scenario(
                    label=label,
                    port=port,
                    master=master,
                    clients=args.clients,
                    request=request,
                    **common,
                )
            )
        if not args.skip_transfers:
            for shape in shapes:
                for clients in transfer_clients:
                    before = pgbench.run(
                        args.database_url,
                        shape=shape,
                        clients=clients,
                        seconds=args.seconds,
                        accounts=args.customers,
                    )
                    row = show(
                        http_scenario(
                            label=f"transfer {shape} x{clients}",
                            port=bank_port,
                            master=bank.pid,
                            clients=clients,
                            request=transfer_request(fixture, shape),
                            **common,
                        )
                    )
                    after = pgbench.run(
                        args.database_url,
                        shape=shape,
                        clients=clients,
                        seconds=args.seconds,
                        accounts=args.customers,
                    )
                    base = merge([before, after])
                    row.notes.append(
                        f"pgbench {base.tps:.0f} tps ({row.result.tps / base.tps:.0%})"
                    )
                    say(f"  {'  pgbench, same shape':26} {base.tps:7.0f}/s")
        # The targets' scenarios once more, taking turns (`interleaved`): the rows above ran
        # minutes apart, on a machine whose speed drifts by a third within minutes.
        turns = [
            (label, port, master, args.clients, request)
            for label, port, master, request in gets
            if label != "bare behind bank middleware"
        ]
        if compare is not None:
            b_port, b_process = compare
            turns.append(
                (f"GET account {B}", b_port, b_process.pid, args.clients, account_request(fixture))
            )
        if not args.skip_transfers:
            turns.append(
                ("transfer random x8", bank_port, bank.pid, 8, transfer_request(fixture, "random"))
            )
            if compare is not None:
                request = transfer_request(fixture, "random")
                turns.append((f"transfer random x8 {B}", b_port, b_process.pid, 8, request))
        for label, port, master, clients, request in turns:
            if B in label:  # B has served nothing yet: its workers verify tokens afresh, etc.
                http_scenario(
                    label=f"{label}, warming up",
                    port=port,
                    master=master,
                    clients=clients,
                    seconds=args.slice,
                    warmup=0,
                    request=request,
                )
        say(f"  interleaved: {args.rounds} rounds of {args.slice:g} s per scenario")
        for row in interleaved(
            [(f"{label}, interleaved", *rest) for label, *rest in turns],
            rounds=args.rounds,
            seconds=args.slice,
            warmup=min(args.warmup, 0.5),
        ):
            show(row)

    figures = in_process(fixture)
    connection.close()
    clean = database.ledger_clean()
    say()
    say(report(rows, figures, clients=args.clients))
    say(f"ledger_check after the run: {'clean' if clean else 'NOT CLEAN'}")
    return 0 if clean else 1


def _rate(rows: list[Row], label: str) -> float | None:
    return next((r.result.tps for r in rows if r.label == label), None)


def report(rows: list[Row], figures: dict[str, dict], *, clients: int) -> str:
    lines = [
        f"Request pipeline, {clients} clients for the GETs; server CPU = gunicorn workers' "
        "user+system CPU per request; round trips and Python CPU measured in-process, one "
        "request at a time.",
        f"{'scenario':30} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'errors':>6} "
        f"{'server CPU ms':>13}  notes",
    ]
    for row in rows:
        r = row.result
        cpu = f"{row.server_cpu_ms:.2f}" if row.server_cpu_ms else "-"
        p50 = f"{r.p50_ms:.1f}" if r.p50_ms is not None else "-"
        p95 = f"{r.p95_ms:.1f}" if r.p95_ms is not None else "-"
        lines.append(
            f"{row.label:30} {r.tps:7.0f} {p50:>7} {p95:>7} {r.errors:6d} {cpu:>13}  "
            + "; ".join(row.notes)
        )
    lines.append("")
    lines.append("per request, in-process:")
    for label, f in figures.items():
        lines.append(
            f"  {label:12} database round trips {f['database']:.1f}, Redis round trips "
            f"{f['redis']:.1f}, Python CPU {f['cpu_ms']:.2f} ms"
        )
    lines.append("")
    costs = [row for row in rows if row.other_cpu_ms]
    if costs:
        lines.append("")
        lines.append(
            f"CPU ms per request in the interleaved phase ({os.cpu_count()} cores for all of it):"
        )
        for row in costs:
            parts = [f"gunicorn {row.server_cpu_ms:.2f}"] + [
                f"{name} {ms:.2f}" for name, ms in row.other_cpu_ms.items()
            ]
            total = (row.server_cpu_ms or 0) + sum(row.other_cpu_ms.values())
            lines.append(f"  {row.label:34} " + ", ".join(parts) + f"; all {total:.2f}")
    compared = [(row.label.replace(f" {B}", ""), row) for row in rows if f" {B}," in row.label]
    if compared:
        lines.append("")
        lines.append("A/B, interleaved (B: --compare-env / --compare-tree; A: the bank as run):")
        for label, b_row in compared:
            a_rate, b_rate = _rate(rows, label), b_row.result.tps
            if a_rate:
                lines.append(
                    f"  {label:34} A {a_rate:.0f}/s, B {b_rate:.0f}/s: B/A {b_rate / a_rate:.3f}"
                )
    lines.append("")
    lines.append("targets (the interleaved phase's rates):")
    for what, numerator, denominator, least in TARGETS:
        top, bottom = _rate(rows, numerator), _rate(rows, denominator)
        if top is None or not bottom:
            continue
        ratio = top / bottom
        verdict = "met" if ratio >= least else "MISSED"
        lines.append(f"  {what}: {top:.0f} / {bottom:.0f} = {ratio:.2f} (>= {least}: {verdict})")
    return "\n".join(lines)
