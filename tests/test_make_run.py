"""`make run` on embedded defaults: portal, worker, beat and the demo landscape (a real
Tryton ERP and the peers around it) come up, data moves from the shop into the ERP, and
Ctrl-C stops all of them. This is the README's first command, run for real."""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import wait_for

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.worker


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


def delivered_sales(db: Path) -> int:
    """Sales orders the ERP confirmed receiving, read from Junction's own database."""
    with sqlite3.connect(db, timeout=10) as conn:
        return conn.execute(
            "SELECT count(*) FROM integrations_recordoutcome o JOIN integrations_flow f ON f.id = o.flow_id "
            "WHERE f.entity = 'sales_order' AND o.status = 'delivered'"
        ).fetchone()[0]


@pytest.mark.timeout(600)
def test_make_run_serves_a_healthy_portal_without_servers(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}}
    env |= {"PORT": str(port), "JUNCTION_VAR_DIR": str(tmp_path), "JUNCTION_DEMO_ERP_PORT": str(free_port())}
    log = open(tmp_path / "make-run.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        ["make", "run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # Beat's first scheduler heartbeat comes after 15 s; allow for a slow machine.
        wait_for(lambda: get(f"{base}/healthz")[0] == 200, timeout=120, interval=1, message="a healthy /healthz")
        health = json.loads(get(f"{base}/healthz")[1])
        assert health["status"] == "ok" and all(check["ok"] for check in health["checks"].values())
        status, body = get(f"{base}/login/")
        assert status == 200 and "Sign in to Junction" in body
        assert (tmp_path / "db.sqlite3").exists() and (tmp_path / "demo-credentials.txt").exists()
        output = (tmp_path / "make-run.log").read_text()
        assert "demo-credentials.txt" in output and "auditor" in output
        # The demo landscape at work: the shop's orders become sales in the ERP (a real Tryton).
        wait_for(
            lambda: delivered_sales(tmp_path / "db.sqlite3") > 0, timeout=240, interval=2, message="a sale in the ERP"
        )
        assert "Tryton ERP on http://127.0.0.1:" in (tmp_path / "make-run.log").read_text()
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does to the foreground group
        try:
            proc.wait(timeout=45)
        finally:
            log.close()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.5)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("processes of `make run` were still running 15 s after Ctrl-C")
    assert get(f"{base}/healthz")[0] == 0, "the web server still answers after Ctrl-C"
