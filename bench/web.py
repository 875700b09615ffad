"""Transfers over HTTP: gunicorn started as a subprocess on 127.0.0.1, and a load generator
of Python threads, each with one persistent (keep-alive) http.client connection."""

import http.client
import json
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from bench.database import Fixture
from bench.environment import ROOT
from bench.load import drive
from bench.service import pick
from bench.stats import Result

CONFIG = Path(__file__).resolve().parent / "gunicorn.conf.py"
PATH = "/api/v1/transfers/"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(port: int, *, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode} before it was healthy.")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz in time.")


@contextmanager
def gunicorn(env: dict[str, str], *, log_path: Path):
    """A gunicorn serving the project with bench/gunicorn.conf.py; yields its port."""
    with gunicorn_process(env, log_path=log_path) as (port, _process):
        yield port


@contextmanager
def gunicorn_process(env: dict[str, str], *, log_path: Path, root: Path = ROOT):
    """As `gunicorn`, yielding (port, the master's Popen) for those who read its workers.
    `root`: the checkout whose code it serves (another one for an A/B comparison)."""
    port = free_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                str(CONFIG),
                "--bind",
                f"127.0.0.1:{port}",
                "bankproject.wsgi",
            ],
            cwd=root,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_healthy(port, process=process)
            yield port, process
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class Client:
    def __init__(self, port: int, seed: str):
        self.port = port
        self.rng = random.Random(seed)
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def post(self, body: bytes, headers: dict[str, str]) -> int:
        try:
            self.conn.request("POST", PATH, body=body, headers=headers)
            response = self.conn.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            self.conn.close()  # reconnects on the next request
            raise


def run(
    fixture: Fixture,
    *,
    port: int,
    shape: str,
    clients: int,
    seconds: float,
    warmup: float,
    scenario: str = "http",
) -> Result:
    def setup(index: int) -> Client:
        return Client(port, f"http-{shape}-{clients}-{index}")

    def operation(client: Client) -> str | None:
        source, destination = pick(client.rng, fixture, shape)
        body = json.dumps(
            {
                "from_account": str(source.account.pk),
                "to_account_number": destination.account.number,
                "amount": client.rng.randint(1, 100),
            }
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {source.token}",
            "Idempotency-Key": uuid.uuid4().hex,
        }
        try:
            status = client.post(body, headers)
        except (OSError, http.client.HTTPException) as error:
            return type(error).__name__
        return None if status == 201 else f"HTTP {status}"

    def teardown(client: Client) -> None:
        client.conn.close()

    return drive(
        scenario=scenario,
        shape=shape,
        clients=clients,
        seconds=seconds,
        warmup=warmup,
        setup=setup,
        operation=operation,
        teardown=teardown,
    )
