"""Real peers for adapter tests: json-server 0.17 from npm, run by tests/peers/server.js.

``json_server`` (function scope) hands a test a running server reset to SEED;
the process itself is started once per session on a free loopback port with a
temporary db.json, after ``npm ci --prefix tests/peers`` if node_modules is
missing. Without node/npm the tests are skipped, or fail when
JUNCTION_REQUIRE_SERVICES=1 (see conftest.py beside this file).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

PEERS_DIR = Path(__file__).resolve().parents[3] / "tests" / "peers"
REQUIRE_SERVICES = os.environ.get("JUNCTION_REQUIRE_SERVICES") == "1"
START_TIMEOUT = 30.0

# What every test starts from: seven customers changed one day apart, oldest first.
SEED = {
    "customers": [
        {"id": n, "name": f"Customer {n}", "rev": f"r{n}", "updatedAt": f"2024-01-0{n}T10:00:00Z"} for n in range(1, 8)
    ],
    "products": [{"id": "P-1", "name": "Widget", "updatedAt": "2024-02-01T00:00:00Z"}],
}


def node_available() -> tuple[bool, str]:
    """Whether node and npm are on PATH (the gate for the ``jsonserver`` marker)."""
    missing = [tool for tool in ("node", "npm") if not shutil.which(tool)]
    if missing:
        return False, f"{' and '.join(missing)} not found on PATH (apt-get install nodejs npm)"
    return True, ""


def skip_or_fail(reason: str):
    if REQUIRE_SERVICES:
        pytest.fail(f"jsonserver is required here (JUNCTION_REQUIRE_SERVICES=1): {reason}")
    pytest.skip(f"needs jsonserver: {reason}")


def install() -> None:
    """``npm ci`` the pinned json-server, once (the lock file decides every version)."""
    if (PEERS_DIR / "node_modules" / "json-server" / "package.json").exists():
        return
    cmd = ["npm", "ci", "--prefix", str(PEERS_DIR), "--no-audit", "--no-fund"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode:
        skip_or_fail(f"`{' '.join(cmd)}` failed: {done.stderr.strip()[-500:]}")


@dataclass
class JsonServer:
    """A running json-server: its base URL, and the control calls tests use."""

    url: str
    process: subprocess.Popen

    def control(self, **body) -> dict:
        """POST /_control: reset=True, revoke=True (OAuth2 tokens), tokenLifetime=seconds."""
        return httpx.post(f"{self.url}/_control", json=body, timeout=5).raise_for_status().json()

    def stats(self) -> dict:
        return httpx.get(f"{self.url}/_control", timeout=5).raise_for_status().json()

    def record(self, collection: str, ident) -> dict | None:
        response = httpx.get(f"{self.url}/{collection}/{ident}", timeout=5)
        return response.json() if response.status_code == 200 else None


def start(workdir: Path) -> JsonServer:
    """Start server.js on a free loopback port (it prints the port) and wait until it answers."""
    db, log = workdir / "db.json", workdir / "json-server.log"
    db.write_text(json.dumps(SEED))
    with log.open("w") as stderr:
        process = subprocess.Popen(
            ["node", str(PEERS_DIR / "server.js"), str(db)], stdout=subprocess.PIPE, stderr=stderr, text=True
        )
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
    line = process.stdout.readline() if ready else ""
    if not line:
        stop(process)
        pytest.fail(f"json-server did not start within {START_TIMEOUT:g} s: {log.read_text()[-2000:]}")
    server = JsonServer(f"http://127.0.0.1:{json.loads(line)['port']}", process)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            server.stats()
            return server
        except httpx.HTTPError:
            time.sleep(0.1)
    stop(process)
    pytest.fail(f"json-server at {server.url} did not answer: {log.read_text()[-2000:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout:
        process.stdout.close()


@pytest.fixture(scope="session")
def json_server_process(tmp_path_factory):
    ok, reason = node_available()
    if not ok:
        skip_or_fail(reason)
    install()
    server = start(tmp_path_factory.mktemp("json-server"))
    yield server
    stop(server.process)


@pytest.fixture
def json_server(json_server_process) -> JsonServer:
    """The session's json-server with SEED data, no tokens and zeroed counters."""
    json_server_process.control(reset=True)
    return json_server_process
