"""The benchmark's pure helpers (bench/stats.py): percentiles, pgbench's output, the table.
No database, no timing is asserted."""

import pytest

from bench.pgbench import script
from bench.stats import (
    Result,
    format_table,
    merge,
    parse_pgbench_log,
    parse_pgbench_output,
    percentile,
)

PGBENCH_15 = """\
pgbench (15.20 (Debian 15.20-0+deb12u1))
transaction type: /tmp/bench-pgbench-x/transfer-random.sql
scaling factor: 1
query mode: simple
number of clients: 8
number of threads: 2
maximum number of tries: 1
duration: 10 s
number of transactions actually processed: 29912
number of failed transactions: 0 (0.000%)
latency average = 2.673 ms
initial connection time = 12.885 ms
tps = 2992.345678 (without initial connection time)
"""


def test_percentile_interpolates_between_closest_ranks():
    values = [4, 1, 3, 2]  # unsorted on purpose

    assert percentile(values, 0) == 1
    assert percentile(values, 50) == 2.5
    assert percentile(values, 100) == 4
    assert percentile(values, 95) == pytest.approx(3.85)


def test_percentile_of_one_value_is_that_value():
    assert percentile([7.5], 95) == 7.5


def test_percentile_of_nothing_is_none():
    assert percentile([], 50) is None


@pytest.mark.parametrize("p", [-1, 101])
def test_percentile_refuses_a_p_outside_0_to_100(p):
    with pytest.raises(ValueError):
        percentile([1, 2], p)


def test_parse_pgbench_output_reads_tps_processed_and_failed():
    summary = parse_pgbench_output(PGBENCH_15)

    assert summary.tps == pytest.approx(2992.345678)
    assert summary.processed == 29912
    assert summary.failed == 0


def test_parse_pgbench_output_reads_the_older_excluding_wording():
    text = "tps = 812.5 (including connections establishing)\ntps = 815.25 (excluding connections"

    assert parse_pgbench_output(text).tps == 815.25


def test_parse_pgbench_output_refuses_output_without_tps():
    with pytest.raises(ValueError):
        parse_pgbench_output("pgbench: error: connection to server failed\n")


def test_parse_pgbench_log_reads_microseconds_as_seconds_and_skips_the_rest():
    lines = [
        "0 0 2500 0 1700000000 123456",
        "1 0 1000 0 1700000000 223456 17",  # with a schedule lag column
        "2 1 failed 0 1700000000 323456",
        "garbage",
    ]

    assert parse_pgbench_log(lines) == [0.0025, 0.001]


def test_format_table_puts_each_scenario_beside_pgbench_at_the_same_clients_and_shape():
    rows = [
        Result("pgbench", "random", 8, 10, tps_reported=2000.0, latencies=[0.002, 0.004]),
        Result("http", "random", 8, 10, ok=5000, latencies=[0.01] * 10, ledger="clean"),
        Result("http", "hot", 8, 10, ok=100, errors=2),  # no pgbench row for hot
    ]

    lines = format_table(rows).splitlines()

    assert lines[0].split() == [
        "scenario",
        "shape",
        "clients",
        "tps",
        "p50",
        "ms",
        "p95",
        "ms",
        "errors",
        "vs",
        "pgbench",
    ]
    assert lines[2].split() == [
        "http",
        "random",
        "8",
        "500",
        "10.0",
        "10.0",
        "0",
        "25%",
        "ledger",
        "clean",
    ]
    assert lines[3].split()[-2:] == ["2", "-"]


def test_pgbench_scripts_lock_two_rows_in_id_order_and_post_two_entries():
    for shape in ("random", "hot"):
        text = script(shape)

        assert "ORDER BY id FOR UPDATE" in text
        assert text.count("UPDATE bench_account") == 2
        assert "INSERT INTO bench_transaction" in text
        assert text.rstrip().endswith("COMMIT;")


def test_merge_averages_pgbench_runs_and_keeps_every_latency():
    runs = [
        Result("pgbench", "hot", 8, 10, ok=1000, tps_reported=100.0, latencies=[0.01]),
        Result("pgbench", "hot", 8, 10, ok=3000, errors=1, tps_reported=300.0, latencies=[0.03]),
    ]

    merged = merge(runs)

    assert (merged.scenario, merged.shape, merged.clients) == ("pgbench", "hot", 8)
    assert merged.tps == 200.0
    assert merged.ok == 4000
    assert merged.errors == 1
    assert sorted(merged.latencies) == [0.01, 0.03]


def test_interleaved_turns_combine_into_one_rate_and_cpu_per_request():
    from bench.pipeline import Row, Slice, combine

    def turn(ok, operations, server_ms, database, errors=0):
        result = Result("http", "", 8, 3.0, ok=ok, errors=errors, latencies=[0.01] * ok)
        result.operations = operations
        result.cpu_seconds = 0.3  # the load generator's, over the turn
        if errors:
            result.error_kinds = {"HTTP 500": errors}
        row = Row(label="GET", result=result, server_cpu_ms=server_ms)
        return Slice(row=row, database_cpu=database, redis_cpu=0.0)

    row = combine("GET, interleaved", [turn(1200, 1400, 2.0, 0.2), turn(600, 600, 4.0, 0.2, 1)])

    assert row.label == "GET, interleaved"
    assert row.result.tps == 1800 / 6.0  # every turn's requests over every turn's seconds
    assert row.result.ok == 1800 and row.result.errors == 1 and len(row.result.latencies) == 1800
    assert row.result.error_kinds == {"HTTP 500": 1}
    # CPU over every request of the turns: (1400 * 2.0 + 600 * 4.0) ms / 2000 requests
    assert row.server_cpu_ms == pytest.approx(2.6)
    assert row.other_cpu_ms == pytest.approx({"PostgreSQL": 0.2, "Redis": 0.0, "clients": 0.3})


def test_the_report_takes_the_targets_and_the_ab_from_the_interleaved_rows():
    from bench.pipeline import Row, report

    def row(label, tps):
        return Row(label=label, result=Result("http", "", 8, 1.0, ok=tps, operations=tps))

    rows = [
        row("bare", 2000),  # run minutes before: not what the targets divide
        row("GET account", 2000),
        row("bare, interleaved", 1200),
        row("GET account, interleaved", 630),
        row("GET account (B), interleaved", 600),
        row("transfer random x8, interleaved", 370),
    ]

    text = report(rows, {}, clients=8)

    assert "authenticated GET / bare view: 630 / 1200 = 0.53 (>= 0.5: met)" in text
    assert "transfers x8 random / authenticated GET: 370 / 630 = 0.59 (>= 0.6: MISSED)" in text
    assert "GET account, interleaved" in text and "A 630/s, B 600/s: B/A 0.952" in text


def test_the_middleware_bench_times_the_whole_stack_and_each_layer_it_can_do_without(settings):
    """bench/middleware.py: every variant answered 200 (it raises otherwise); the sessions
    layer, which authentication needs, has no variant without it. No timing is asserted."""
    from bench import middleware

    best = middleware.measure(requests=5, rounds=1)

    layers = list(settings.MIDDLEWARE)
    needed = "django.contrib.sessions.middleware.SessionMiddleware"
    assert set(best) == {"none", "all"} | {f"-{layer}" for layer in layers if layer != needed}
    text = middleware.report(best, layers)
    assert all(layer in text for layer in layers)
    assert f"{needed}" in text and "(a later layer needs it)" in text
