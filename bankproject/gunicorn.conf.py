"""gunicorn settings, shared by `bin/start` (the container and by hand), `make run` and the
benchmark.

gthread workers: each worker process runs a few threads, each with its own persistent
database connection (CONN_MAX_AGE), so a request does not pay for a new connection.

- Workers: `WEB_CONCURRENCY`, else two per CPU core the process may use.
- Timeouts: a worker silent for `GUNICORN_TIMEOUT` seconds (30) is killed and replaced;
  idle keep-alive connections close after 5 s.
- SIGTERM (docker stop, Kubernetes, systemd): gunicorn stops accepting connections, lets the
  requests in flight finish for up to `GUNICORN_GRACEFUL_TIMEOUT` seconds (20; keep it below
  the orchestrator's own stop timeout, docker's default 10 s is raised to 30 s in
  docker-compose.yml), then exits 0.
- Access log: django-structlog already writes one JSON line per request (`request_finished`:
  method and path, status code, user id, and the `request_id` the response carries as
  X-Request-ID), through the redacting processor. gunicorn's own access log would be a second,
  non-JSON line per request without the id, so it is off; gunicorn's error log (worker starts,
  timeouts, shutdown) goes to stderr.
"""

import os

bind = os.environ.get(
    "GUNICORN_BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
)
# The cores this process may run on (a container's CPU set), where the OS can say.
cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
workers = int(os.environ.get("WEB_CONCURRENCY", 0)) or 2 * cores
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 20))
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 0))
max_requests_jitter = 100
accesslog = None  # django-structlog's request_finished line is the access log (above)
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Worker heartbeats on a RAM disk: a container's overlay filesystem can stall them. Only
# gunicorn's heartbeat files go there, no data.
SHM = "/dev/shm"  # noqa: S108  # nosec B108
worker_tmp_dir = SHM if os.path.isdir(SHM) else None
