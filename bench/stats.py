"""Pure helpers of the benchmark: percentiles, pgbench's output, the printed table."""

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0-100) by linear interpolation between closest ranks; None when
    there are no values."""
    if not values:
        return None
    if not 0 <= p <= 100:
        raise ValueError(f"A percentile is between 0 and 100, not {p}.")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Result:
    """One scenario's figures. Latencies are in seconds."""

    scenario: str  # "pgbench", "service" or "http"
    shape: str  # "random" or "hot"
    clients: int
    seconds: float
    ok: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list, repr=False)
    error_kinds: dict[str, int] = field(default_factory=dict)
    tps_reported: float | None = None  # pgbench says its own tps; others are ok / seconds
    ledger: str = ""  # "clean", "DIRTY" or "" (not checked after this one)
    cpu_seconds: float | None = None  # this process's CPU over the whole run (load generator)
    operations: int = 0  # every operation of the run, warm-up included (for cpu_seconds)

    @property
    def tps(self) -> float:
        if self.tps_reported is not None:
            return self.tps_reported
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def p50_ms(self) -> float | None:
        value = percentile(self.latencies, 50)
        return None if value is None else value * 1000

    @property
    def p95_ms(self) -> float | None:
        value = percentile(self.latencies, 95)
        return None if value is None else value * 1000


def pool(runs: list[Result]) -> Result:
    """One result from several runs of the same scenario: requests, errors, operations and
    seconds summed (so `tps` is over all of them), every latency, every error kind."""
    first = runs[0]
    result = Result(
        scenario=first.scenario,
        shape=first.shape,
        clients=first.clients,
        seconds=sum(r.seconds for r in runs),
        ok=sum(r.ok for r in runs),
        errors=sum(r.errors for r in runs),
        latencies=[latency for r in runs for latency in r.latencies],
        operations=sum(r.operations for r in runs),
    )
    for run in runs:
        for kind, count in run.error_kinds.items():
            result.error_kinds[kind] = result.error_kinds.get(kind, 0) + count
    return result


def merge(runs: list[Result]) -> Result:
    """One pgbench row from several runs of the same scenario: the mean tps, every latency."""
    result = pool(runs)
    result.tps_reported = sum(r.tps for r in runs) / len(runs)
    return result


_TPS = re.compile(r"^tps = ([0-9.]+) \((?:without|excluding) ", re.MULTILINE)
_TPS_ANY = re.compile(r"^tps = ([0-9.]+)", re.MULTILINE)
_PROCESSED = re.compile(r"^number of transactions actually processed: (\d+)", re.MULTILINE)
_FAILED = re.compile(r"^number of failed transactions: (\d+)", re.MULTILINE)


@dataclass
class PgbenchSummary:
    tps: float
    processed: int
    failed: int


def parse_pgbench_output(text: str) -> PgbenchSummary:
    """tps (without the initial connection time), transactions processed and failed, from
    pgbench's summary (PostgreSQL 13-17 wording)."""
    match = _TPS.search(text) or _TPS_ANY.search(text)
    if match is None:
        raise ValueError("No 'tps = ...' line in pgbench's output.")
    processed = _PROCESSED.search(text)
    failed = _FAILED.search(text)
    return PgbenchSummary(
        tps=float(match.group(1)),
        processed=int(processed.group(1)) if processed else 0,
        failed=int(failed.group(1)) if failed else 0,
    )


def parse_pgbench_log(lines: Iterable[str]) -> list[float]:
    """Latencies in seconds from pgbench's per-transaction log (`-l`): the third field is the
    transaction's elapsed time in microseconds. Failed (`failed`) and skipped lines are left
    out."""
    latencies = []
    for line in lines:
        fields = line.split()
        if len(fields) < 6 or not fields[2].isdigit():
            continue
        latencies.append(int(fields[2]) / 1_000_000)
    return latencies


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def format_table(results: Sequence[Result]) -> str:
    """One line per scenario; `vs pgbench` is tps over pgbench's tps at the same clients and
    shape in the same run."""
    baseline = {(r.shape, r.clients): r.tps for r in results if r.scenario == "pgbench"}
    header = ("scenario", "shape", "clients", "tps", "p50 ms", "p95 ms", "errors", "vs pgbench")
    rows = [header]
    for r in results:
        base = baseline.get((r.shape, r.clients))
        ratio = "-" if r.scenario == "pgbench" or not base else f"{r.tps / base:.0%}"
        ledger = f"  ledger {r.ledger}" if r.ledger else ""
        rows.append(
            (
                r.scenario,
                r.shape,
                str(r.clients),
                f"{r.tps:.0f}",
                _ms(r.p50_ms),
                _ms(r.p95_ms),
                str(r.errors),
                ratio + ledger,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if i >= 2 else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=False))
        ]
        lines.append("  ".join([*cells, row[-1]]))
    return "\n".join(lines)
