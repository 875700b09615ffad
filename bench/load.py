"""Closed-loop load: N threads, each doing one operation after another for a fixed time."""

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from bench.stats import Result


def drive(
    *,
    scenario: str,
    shape: str,
    clients: int,
    seconds: float,
    warmup: float,
    setup: Callable[[int], Any],
    operation: Callable[[Any], str | None],
    teardown: Callable[[Any], None] = lambda state: None,
) -> Result:
    """Run `operation(state)` in a loop on `clients` threads. It returns None on success or a
    short error name. Throughput and latency count the operations that start after the warm-up
    and end within the measured `seconds`; errors count at any time."""
    barrier = threading.Barrier(clients + 1)
    lock = threading.Lock()
    result = Result(scenario=scenario, shape=shape, clients=clients, seconds=seconds)
    kinds: Counter[str] = Counter()
    window: list[float] = [0.0, 0.0]

    def worker(index: int) -> None:
        state = setup(index)
        latencies, ok, errors, done, local_kinds = [], 0, 0, 0, Counter()
        try:
            barrier.wait()
            start, stop = window
            while True:
                began = time.perf_counter()
                if began >= stop:
                    break
                error = operation(state)
                ended = time.perf_counter()
                done += 1
                if error is not None:
                    errors += 1
                    local_kinds[error] += 1
                elif began >= start and ended <= stop:
                    ok += 1
                    latencies.append(ended - began)
        finally:
            teardown(state)
            with lock:
                result.ok += ok
                result.errors += errors
                result.operations += done
                result.latencies.extend(latencies)
                kinds.update(local_kinds)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    now, cpu = time.perf_counter(), time.process_time()
    window[0], window[1] = now + warmup, now + warmup + seconds
    barrier.wait()
    for thread in threads:
        thread.join(timeout=seconds + warmup + 120)
    result.cpu_seconds = time.process_time() - cpu
    result.error_kinds = dict(kinds)
    return result
