import pytest
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_database_and_migrations(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}}


def test_readyz_is_503_naming_pending_migrations(client, monkeypatch):
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("m", False)])

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "migrations": "pending"}


def test_readyz_is_503_naming_the_database_when_it_is_down(client, monkeypatch, tmp_path):
    # A real connection to a database that is not there (a closed port, a missing directory).
    unreachable = connections.create_connection("default")
    unreachable.settings_dict = {
        **unreachable.settings_dict,
        "NAME": str(tmp_path / "missing" / "db.sqlite3")
        if unreachable.vendor == "sqlite"
        else unreachable.settings_dict["NAME"],
        "PORT": "1",
        "HOST": "127.0.0.1",
    }
    monkeypatch.setattr("core.health.connections", {"default": unreachable})

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unavailable"
    assert response.json()["status"] == "unavailable"


def test_health_refuses_post(client):
    assert client.post("/healthz").status_code == 405


def test_favicon_points_at_the_logo(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"].endswith("img/logo.svg")
