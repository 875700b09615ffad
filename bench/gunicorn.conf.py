"""gunicorn for the benchmark: the project's own settings (bankproject/gunicorn.conf.py),
with the workers tuned for a 2-core machine that also runs PostgreSQL and the load generator.
Six sync workers did best there (sync 4-8 and gthread 2x4, 3x3, 4x2 were tried: gthread lost
to the GIL shared by a worker's threads). BENCH_WORKERS / BENCH_THREADS / BENCH_WORKER_CLASS
override them (`python -m bench transfers --workers ... --threads ... --worker-class ...`)."""

import os
from pathlib import Path

_project = Path(__file__).resolve().parent.parent / "bankproject" / "gunicorn.conf.py"
exec(compile(_project.read_text(), str(_project), "exec"))  # our own settings file

workers = int(os.environ.get("BENCH_WORKERS", 6))
worker_class = os.environ.get("BENCH_WORKER_CLASS", "sync")
threads = int(os.environ.get("BENCH_THREADS", 1))
max_requests = 0  # no worker restarts in the middle of a measurement
keepalive = 30
