"""bin/start outside a container, as production runs it: PostgreSQL, DJANGO_ENV=production, a
spare port. It becomes ready, moves money through the API, and on SIGTERM finishes every
request in flight and exits cleanly."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.error import URLError
from urllib.request import Request, urlopen

import psycopg
import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a long serving test passphrase"
IN_FLIGHT = 4  # fewer than one worker's threads: every request is taken at once

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="bin/start is tested against PostgreSQL"
    ),
]

SETUP = """
import contextlib
import json
from accounts.services import register_customer
from ledger import services
from ledger.models import Account

def customer(email, first):
    return register_customer(email=email, password={password!r}, first_name=first, last_name="X")

payer = customer("payer@example.com", "Pia")
payee = customer("payee@example.com", "Paul")
source = services.open_account(owner=payer, type="checking", currency="EUR")
target = services.open_account(owner=payee, type="checking", currency="EUR")
services.deposit(account=source, amount=100_000, initiated_by=None)
print(json.dumps({{"source": str(source.pk), "target": target.number}}))
"""

COUNT = """
from ledger.models import Account, Transaction
transfers = Transaction.objects.filter(kind="transfer").count()
print(transfers, Account.objects.get(number={number!r}).balance)
"""


def spare_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def database():
    db = settings.DATABASES["default"]
    name = f"bank_serve_{uuid.uuid4().hex[:8]}"
    server = {"host": db["HOST"], "port": db["PORT"] or 5432}
    server.update(user=db["USER"], password=db["PASSWORD"])
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    yield f"postgres://{auth}@{db['HOST']}:{server['port']}/{name}"
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def production_env(database_url: str, var_dir: Path, port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TESTING"))}
    env.update(
        DJANGO_ENV="production",
        SECRET_KEY="serving-test-" + "k" * 50,
        CARD_PAN_KEYS="serving:" + "p" * 40,
        CARD_CVC_KEY="serving-cvc-" + "c" * 40,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",  # plain HTTP on the loopback; a proxy terminates TLS
        DATABASE_URL=database_url,
        VAR_DIR=str(var_dir),
        PYTHON=sys.executable,
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY="2",
        GUNICORN_GRACEFUL_TIMEOUT="20",
        LOG_LEVEL="INFO",
    )
    env.pop("REDIS_URL", None)  # the database cache: nothing shared with other test runs
    return env


def manage(env: dict, code: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def call(base: str, method: str, path: str, body: dict | None = None, token: str = "", key=""):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if key:
        headers["Idempotency-Key"] = key
    data = json.dumps(body).encode() if body is not None else None
    with urlopen(Request(base + path, data, headers, method=method), timeout=30) as response:  # nosec B310
        return response.status, json.loads(response.read())


def wait_ready(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stderr.read()
        try:
            if call(base, "GET", "/readyz")[0] == 200:
                return
        except (URLError, ConnectionError):
            pass
        time.sleep(0.3)
    pytest.fail("bin/start never became ready")


def started_transfer(port: int, token: str, body: bytes) -> socket.socket:
    """A transfer whose request is half sent: its worker thread is now waiting for the rest."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (
        "POST /api/v1/transfers/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Idempotency-Key: {uuid.uuid4()}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    sock.sendall(head.encode() + body[:5])
    return sock


def finish(sock: socket.socket, body: bytes) -> bytes:
    sock.sendall(body[5:])
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    sock.close()
    return answer


def test_start_serves_in_production_and_stops_without_losing_a_request(database, tmp_path):
    port = spare_port()
    base = f"http://127.0.0.1:{port}"
    env = production_env(database, tmp_path, port)
    migrated = subprocess.run(
        [str(ROOT / "bin" / "start"), "migrate"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr
    parties = json.loads(manage(env, SETUP.format(password=PASSWORD)))
    log = (tmp_path / "server.log").open("w+")
    server = subprocess.Popen(
        [str(ROOT / "bin" / "start")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: a failed test stops all of it
    )
    try:
        wait_ready(base, server)
        _, tokens = call(base, "POST", "/api/v1/auth/token/",
                         {"email": "payer@example.com", "password": PASSWORD})  # fmt: skip
        token = tokens["access"]
        transfer = {"from_account": parties["source"], "to_account_number": parties["target"]}
        status, sent = call(base, "POST", "/api/v1/transfers/", {**transfer, "amount": 1000},
                            token, key=str(uuid.uuid4()))  # fmt: skip
        assert status == 201 and sent["amount"] == 1000

        body = json.dumps({**transfer, "amount": 250}).encode()
        in_flight = [started_transfer(port, token, body) for _ in range(IN_FLIGHT)]
        time.sleep(1.0)  # each is now read by a worker thread, waiting for its body
        server.send_signal(signal.SIGTERM)
        time.sleep(1.0)  # gunicorn has stopped accepting and is waiting for these
        assert server.poll() is None
        answers = [finish(sock, body) for sock in in_flight]
        assert server.wait(timeout=60) == 0
    finally:
        if server.poll() is None or server.returncode != 0:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    log.seek(0)
    output = log.read()

    for answer in answers:
        assert answer.startswith(b"HTTP/1.1 201 "), answer[:300]
    assert manage(env, COUNT.format(number=parties["target"])).split() == [
        str(1 + IN_FLIGHT),
        str(1000 + 250 * IN_FLIGHT),
    ]
    assert "Traceback" not in output
    assert "Shutting down: Master" in output
    # The access log: one JSON line per request, with its request id.
    finished = [
        line
        for line in map(str.strip, output.splitlines())
        if line.startswith("{") and '"request_finished"' in line
    ]
    transfers = [json.loads(line) for line in finished if "POST /api/v1/transfers/" in line]
    assert len(transfers) == 1 + IN_FLIGHT
    assert all(line["code"] == 201 and line["request_id"] for line in transfers)
