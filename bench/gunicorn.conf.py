"""gunicorn for the benchmark: the project's own settings (bankproject/gunicorn.conf.py), as
production runs them (gthread, two workers per core, four threads each), without worker
restarts in the middle of a measurement. BENCH_WORKERS / BENCH_THREADS / BENCH_WORKER_CLASS
override the worker model; `python -m bench transfers` sets six sync workers unless told
otherwise (`--workers`, `--threads`, `--worker-class`), the model its earlier figures were
measured with. `python -m bench pipeline` ran six sync workers too until session 6; on the
second machine every model tried (sync 6, gthread 4x4, 3x4, 2x4, 2x8) served transfers at
271-308/s and the authenticated GET at 554-605/s in one series of runs, so it now measures
what is deployed."""

import os
from pathlib import Path

_project = Path(__file__).resolve().parent.parent / "bankproject" / "gunicorn.conf.py"
exec(compile(_project.read_text(), str(_project), "exec"))  # our own settings file

workers = int(os.environ.get("BENCH_WORKERS", 0)) or workers  # noqa: F821 (from the exec)
worker_class = os.environ.get("BENCH_WORKER_CLASS", worker_class)  # noqa: F821
threads = int(os.environ.get("BENCH_THREADS", 0)) or threads  # noqa: F821
max_requests = 0  # no worker restarts in the middle of a measurement
keepalive = 30
