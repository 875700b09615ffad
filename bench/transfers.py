"""`python -m bench transfers`: transfers per second through the service layer and over
HTTP, beside pgbench's transfer-shaped ceiling on the same machine in the same run."""

import argparse
import os
import platform
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

from bench import database, pgbench, service, web
from bench.environment import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    bench_environment,
    setup_django,
)
from bench.stats import Result, format_table, merge

# (scenario, shape, clients, minimum share of pgbench's tps, maximum p95 in ms)
TARGETS = [
    ("service", "random", 8, 0.35, None),
    ("http", "random", 8, 0.20, 25.0),
    ("http", "hot", 8, 0.30, None),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="A smoke run: ~3 s per scenario.")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--seconds", type=float, help="Measured seconds per scenario (10).")
    parser.add_argument("--clients", default="1,8,32", help="Comma-separated (1,8,32).")
    parser.add_argument(
        "--shapes",
        default="random,hot",
        help="random, hot and/or deposit (deposits into random customers' accounts, which all "
        "post to the one settlement account: service scenario only).",
    )
    parser.add_argument(
        "--only", default="pgbench,service,http", help="Which of pgbench,service,http to run."
    )
    parser.add_argument("--customers", type=int, default=1000, help="Funded customers (1000).")
    parser.add_argument("--fresh", action="store_true", help="Drop and recreate the database.")
    parser.add_argument("--workers", type=int, help="gunicorn workers (6).")
    parser.add_argument("--threads", type=int, help="gunicorn threads per worker (1).")
    parser.add_argument("--worker-class", choices=["gthread", "sync"], help="(sync)")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="LABEL:NAME=VALUE[,NAME=VALUE]",
        help="Also measure HTTP with a second gunicorn started with these environment "
        "variables, interleaved with the others (e.g. a speed-up switched off: "
        "`--variant simplejwt:DJANGO_SETTINGS_MODULE=bench.variants.simplejwt`). Repeatable.",
    )


def parse_variant(text: str) -> tuple[str, dict[str, str]]:
    """`label:NAME=VALUE,NAME=VALUE` as (label, environment)."""
    label, _, assignments = text.partition(":")
    env = dict(part.split("=", 1) for part in _csv(assignments))
    if not label or not env:
        raise SystemExit(f"--variant {text!r}: expected LABEL:NAME=VALUE[,NAME=VALUE].")
    return label, env


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def say(message: str) -> None:
    print(message, flush=True)


def run(args: argparse.Namespace) -> int:
    seconds = args.seconds or (3.0 if args.quick else 10.0)
    warmup = 0.5 if args.quick else 2.0
    clients_list = [int(c) for c in _csv(args.clients)]
    shapes = _csv(args.shapes)
    only = set(_csv(args.only))
    env = bench_environment(database_url=args.database_url, redis_url=args.redis_url)
    for value, name, default in (
        (args.workers, "BENCH_WORKERS", "6"),
        (args.threads, "BENCH_THREADS", "1"),
        (args.worker_class, "BENCH_WORKER_CLASS", "sync"),
    ):
        env[name] = str(value or os.environ.get(name) or default)
    workers, threads = env["BENCH_WORKERS"], env["BENCH_THREADS"]
    worker_class = env["BENCH_WORKER_CLASS"]

    say(f"bench transfers on {platform.node()}: {os.cpu_count()} CPUs, load {os.getloadavg()}")
    say(f"  database {args.database_url}; {seconds:g} s per scenario after {warmup:g} s warm-up")
    database.ensure_database(args.database_url, fresh=args.fresh)
    setup_django(env)
    database.migrate()
    lifetime = timedelta(seconds=(seconds + warmup) * 100 + 3600)
    fixture = database.seed(args.customers, lifetime=lifetime, say=say)
    from django.db import connection

    connection.close()
    database.analyze(args.database_url)
    if "pgbench" in only:
        pgbench.prepare(args.database_url, accounts=args.customers)

    results: list[Result] = []
    log_path = Path(os.environ.get("VAR_DIR", "var")) / "bench" / "gunicorn.log"

    def measure(result: Result, *, check: bool) -> Result:
        if check:
            started = time.perf_counter()
            result.ledger = "clean" if database.ledger_clean() else "DIRTY"
            checked = f", ledger {result.ledger} ({time.perf_counter() - started:.1f} s)"
        else:
            checked = ""
        p95 = f"{result.p95_ms:.1f}" if result.p95_ms is not None else "-"
        kinds = f" {result.error_kinds}" if result.error_kinds else ""
        cpu = ""
        if result.cpu_seconds is not None and result.operations:
            per_op = result.cpu_seconds / result.operations * 1000
            cpu = f"  bench process CPU {per_op:.2f} ms/op"
        say(
            f"  {result.scenario:8} {result.shape:6} x{result.clients:<3} {result.tps:7.0f} tps"
            f"  p95 {p95} ms  errors {result.errors}{kinds}{cpu}{checked}"
        )
        return result

    variants = [parse_variant(text) for text in args.variant]

    def scenarios(port: int | None, variant_ports: dict[str, int]) -> None:
        for shape in shapes:
            for clients in clients_list:
                group: list[Result] = []

                def run_pgbench(shape=shape, clients=clients) -> Result:
                    return measure(
                        pgbench.run(
                            args.database_url,
                            shape=shape,
                            clients=clients,
                            seconds=seconds,
                            accounts=args.customers,
                        ),
                        check=False,
                    )

                # pgbench runs before and after the others, and the ratio uses the mean of
                # the two: the machine is shared, and its load drifts over a minute.
                transfers_only = shape != "deposit"  # pgbench and http run transfers
                before = run_pgbench() if "pgbench" in only and transfers_only else None
                if "service" in only:
                    group.append(
                        measure(
                            service.run(
                                fixture,
                                shape=shape,
                                clients=clients,
                                seconds=seconds,
                                warmup=warmup,
                            ),
                            check=True,
                        )
                    )
                if port is not None and transfers_only:
                    group.append(
                        measure(
                            web.run(
                                fixture,
                                port=port,
                                shape=shape,
                                clients=clients,
                                seconds=seconds,
                                warmup=warmup,
                            ),
                            check=True,
                        )
                    )
                for label, variant_port in variant_ports.items() if transfers_only else ():
                    group.append(
                        measure(
                            web.run(
                                fixture,
                                port=variant_port,
                                shape=shape,
                                clients=clients,
                                seconds=seconds,
                                warmup=warmup,
                                scenario=f"http {label}",
                            ),
                            check=True,
                        )
                    )
                if before is not None:
                    after = run_pgbench() if group else None
                    group.insert(0, merge([before, after]) if after else before)
                results.extend(group)

    if "http" in only:
        say(f"  gunicorn: {workers} {worker_class} workers x {threads} threads (log {log_path})")
        with ExitStack() as stack:
            port = stack.enter_context(web.gunicorn(env, log_path=log_path))
            variant_ports = {}
            for label, overrides in variants:
                say(f"  variant {label}: {overrides}")
                variant_ports[label] = stack.enter_context(
                    web.gunicorn({**env, **overrides}, log_path=log_path)
                )
            scenarios(port, variant_ports)
    else:
        scenarios(None, {})

    say("")
    say(
        f"Transfers on {os.cpu_count()} CPUs shared by PostgreSQL, the load generator (Python "
        f"threads in this process) and gunicorn ({workers} {worker_class} workers x {threads} "
        "threads); service = threads calling ledger.services.transfer in this process; http = "
        "POST /api/v1/transfers/ with a JWT and a fresh Idempotency-Key on every request."
    )
    say(format_table(results))
    say("")
    say(report_targets(results))
    clean = all(r.ledger != "DIRTY" for r in results)
    errors = sum(r.errors for r in results if r.scenario != "pgbench")
    say(f"ledger_check: {'clean after every run' if clean else 'NOT CLEAN'}; errors: {errors}")
    return 0 if clean else 1


def report_targets(results: list[Result]) -> str:
    by_key = {(r.scenario, r.shape, r.clients): r for r in results}
    lines = ["targets:"]
    for scenario, shape, clients, share, max_p95 in TARGETS:
        result = by_key.get((scenario, shape, clients))
        base = by_key.get(("pgbench", shape, clients))
        if result is None or base is None or not base.tps:
            continue
        ratio = result.tps / base.tps
        verdict = "met" if ratio >= share else "MISSED"
        line = (
            f"  {scenario} {shape} x{clients}: {result.tps:.0f} / pgbench {base.tps:.0f} = "
            f"{ratio:.0%} (target >= {share:.0%}: {verdict})"
        )
        if max_p95 is not None and result.p95_ms is not None:
            met = "met" if result.p95_ms <= max_p95 else "MISSED"
            line += f"; p95 {result.p95_ms:.1f} ms (target <= {max_p95:g} ms: {met})"
        lines.append(line)
    return "\n".join(lines)
