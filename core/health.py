"""Liveness and readiness probes for the load balancer and the orchestrator."""

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.db_router import replica_status


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up. Nothing else is checked, so a database outage does not get every
    worker restarted."""
    return JsonResponse({"status": "ok"})


def _check_database() -> str:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return "unavailable"
    return "ok"


def _check_migrations() -> str:
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:
        return "unavailable"
    return "pending" if plan else "ok"


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready for traffic: the database answers and every migration is applied. A read replica,
    when there is one, is reported but never fatal: without it the primary serves its reads."""
    checks = {"database": _check_database()}
    checks["migrations"] = _check_migrations() if checks["database"] == "ok" else "unavailable"
    ready = all(result == "ok" for result in checks.values())
    if (replica := replica_status()) is not None:
        checks["replica"] = replica
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )
