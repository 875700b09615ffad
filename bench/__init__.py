"""Benchmarks of the bank, run by hand; they print figures and never fail on a timing.

    python -m bench transfers [--quick] [--fresh] [--database-url URL] [--clients 1,8,32]
        Transfers per second and p50/p95 latency through ledger.services.transfer (threads in
        this process) and over HTTP (gunicorn started from bench/gunicorn.conf.py, a load
        generator of Python threads with keep-alive connections, a JWT and a fresh
        Idempotency-Key per request), at 1, 8 and 32 clients, between random accounts and all
        from one hot account; beside each, pgbench running a transfer-shaped script (run
        before and after, the ratio uses the mean). `manage.py ledger_check`'s proof runs
        after every service and HTTP run. Default database: bank_bench on 127.0.0.1 (created,
        migrated and seeded through the services when missing); about 6 minutes, `--quick`
        about 2. `--fresh` drops the database first (the ledger check grows with the ledger).

    python -m bench profile [--target http|service] [--shape random|hot] [--requests N]
        One transfer at a time in this process (the WSGI application, as gunicorn calls it):
        SQL statements and cache round trips per transfer, CPU per transfer, Python function
        calls per transfer (cProfile: a steady measure on a noisy machine), then pyinstrument.

    python -m bench pipeline [--clients 8] [--transfer-clients 1,8,32] [--seconds 8]
        What the bank adds around a request against the framework itself, in one run: two
        gunicorns (the bank in production mode, and a yardstick with no middleware serving a
        bare DRF view that reads one account by primary key), 8 clients; the bare view, the
        bare view behind the bank's middleware, an authenticated GET /api/v1/accounts/{id}/,
        transfers at 1, 8 and 32 clients (random pairs, one hot account) beside pgbench, the
        gunicorn workers' CPU per request, and per request in-process: database and Redis
        round trips and Python CPU. The targets' ratios come from a last, interleaved phase
        (the bare view, the GET and the 8-client transfers taking turns of `--slice` seconds
        for `--rounds` rounds), with every process's CPU per request. `--compare-tree DIR`
        or `--compare-env NAME=VALUE`: A/B, a second bank gunicorn (another checkout, or
        another environment) takes turns with the first. bench/pipeline.py.

    python -m bench middleware [--requests 4000] [--rounds 3]
        The bank's middleware stack in front of a bearer-token API request, in this process,
        against none: CPU per request of the whole stack and each layer's share (the stack
        less that layer), best of the rounds. Resolves a few microseconds where the pipeline's
        rates vary by several per cent; no database or Redis needed. bench/middleware.py.

    python -m bench scale [--entries 1000000] [--accounts 10000] [--fresh]
        Builds a million entries over 10,000 accounts (bulk, valid running balances) in
        bank_scale, times ledger_check at a tenth and at all of them, then p50/p95 of history
        pages (first and deep), the dashboard, the accounts list and a transfer, with EXPLAIN
        ANALYZE of every query. bench/scale.py.

    python -m bench crash [--transfers N] [--no-cards] [--no-crash] [--database-url URL]
        Jepsen's bank test in spirit: two gunicorns over bank_crash (one over a sqlite:////
        URL), 16 clients making N requests among a dozen accounts (transfers, card payments,
        authorisations, captures, voids; `--no-cards`: transfers only), readers of every
        balance; midway one server's process group is SIGKILLed and restarted, unanswered
        requests are retried with the same key; then every invariant is checked against the
        database (exit 1 when one is broken). bench/crash.py.

Everything runs on 127.0.0.1. The load generator, PostgreSQL and gunicorn share the machine's
CPUs; on a machine other work is using too, compare runs by their ratios to pgbench.
"""
