"""Reliability against real worker processes: nothing lost, nothing duplicated.

Each scenario reports records lost and records duplicated (both must be 0) and
checks that every record ends delivered, quarantined or dead-lettered. The
test process plays Celery beat by calling the sweeper, which is what finds the
work a killed worker or a restarted Redis dropped.
"""

import json
import signal
import socket
import sqlite3
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from django.db import connections
from django.db.models import Count, F
from django.utils import timezone

from conftest import wait_for
from integrations.choices import OutcomeStatus, RunStatus
from integrations.engine import actions, sweeper
from integrations.models import InboundEvent, RecordOutcome, Run
from integrations.tests.engine_world import (
    customer_flow,
    make_target_db,
    signed_headers,
    sql_connector,
    stock_flow,
    stock_source,
    target_rows,
    webhook_connector,
)

pytestmark = pytest.mark.worker


@pytest.fixture
def sync_worker(start_worker):
    """A worker on the ``sync`` queue, with messages left by earlier tests purged first."""
    from config.celery import app

    app.control.purge()
    return start_worker("sync")


def fresh(query):
    connections.close_all()  # see what the worker committed, not an old snapshot
    return query()


def report(run: Run, source_ids: set[str], delivered_ids: list[str]) -> tuple[int, int]:
    lost = len(source_ids - set(delivered_ids))
    duplicated = len(delivered_ids) - len(set(delivered_ids))
    print(
        f"run {run.pk}: read={run.read} created={run.created} updated={run.updated} unchanged={run.unchanged} "
        f"quarantined={run.quarantined} dead={run.dead_lettered}; lost={lost} duplicated={duplicated}"
    )
    return lost, duplicated


def sweep_until_finished(run_id: int, timeout: float = 400) -> Run:
    def finished():
        sweeper.sweep()
        return fresh(lambda: Run.objects.filter(pk=run_id, finished_at__isnull=False).first())

    try:
        return wait_for(finished, timeout=timeout, interval=1, message=f"run {run_id} to finish")
    except pytest.fail.Exception:
        run = Run.objects.get(pk=run_id)
        states = list(RecordOutcome.objects.filter(run_id=run_id).values_list("status").annotate(n=Count("id")))
        pytest.fail(f"run {run_id} unfinished: status={run.status} extracted={run.extracted} outcomes={states}")


def test_a_pushed_customer_reaches_the_target_once_through_a_worker(sync_worker, live_server, tmp_path):
    path = make_target_db(tmp_path / "target.sqlite3")
    source, target = webhook_connector(), sql_connector(path)
    customer_flow(source, target)
    body = json.dumps(
        [{"id": "C-1", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}]
    ).encode()
    headers = signed_headers(body, event_id="order-42")
    url = f"{live_server.url}/api/v1/inbound/{source.pk}/"

    # The sender retries impatiently: 20 concurrent deliveries of one event.
    def deliver(_):
        return httpx.post(url, content=body, headers={**headers, "content-type": "application/json"}, timeout=30)

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(deliver, range(20)))
    assert {a.status_code for a in answers} == {202}
    assert len({a.json()["receipt"] for a in answers}) == 1
    assert sum(not a.json()["duplicate"] for a in answers) == 1

    wait_for(lambda: fresh(lambda: target_rows(path)), timeout=60, message=f"delivery (log {sync_worker.log_path})")
    run = wait_for(lambda: fresh(lambda: Run.objects.filter(finished_at__isnull=False).first()), timeout=30)
    assert (InboundEvent.objects.count(), run.read, run.created) == (1, 1, 1)
    assert [r[1] for r in target_rows(path)] == ["Lovelace"]


def test_killing_a_worker_mid_run_loses_and_duplicates_nothing(start_worker, tmp_path):
    from config.celery import app

    app.control.purge()
    path = tmp_path / "wms.sqlite3"
    stock_source(path, 10_000)
    flow = stock_flow(path)
    first = start_worker("sync")
    run = actions.start_run(flow)

    wait_for(
        lambda: fresh(lambda: Run.objects.get(pk=run.pk).created >= 2_000),
        timeout=180,
        message=f"the first 2,000 deliveries (log {first.log_path})",
    )
    first.send_signal(signal.SIGKILL)  # no goodbye: its leases and its unacknowledged message are orphaned
    first.wait()
    before = Run.objects.get(pk=run.pk)
    assert not before.finished
    # As if the dead worker's leases had run out (JUNCTION_LEASE_SECONDS): what it held is anyone's now.
    expired = timezone.now() - timedelta(seconds=1)
    RecordOutcome.objects.filter(run=run, lease_until__gt=expired).update(lease_until=expired)
    Run.objects.filter(pk=run.pk, lease_until__gt=expired).update(lease_until=expired)
    start_worker("sync")

    run = sweep_until_finished(run.pk)
    with sqlite3.connect(path) as db:
        delivered = [r[0] for r in db.execute("SELECT id FROM stock_copy")]
    lost, duplicated = report(run, {f"S{n:06d}" for n in range(10_000)}, delivered)
    assert (lost, duplicated) == (0, 0)
    assert run.read == 10_000 and run.status == RunStatus.SUCCEEDED
    assert run.created + run.updated + run.unchanged == 10_000  # a batch re-sent after the kill updates, never adds
    assert RecordOutcome.objects.filter(run=run).exclude(status=OutcomeStatus.DELIVERED).count() == 0


@pytest.fixture
def private_redis(tmp_path):
    """A Redis of this test's own as the broker, of this process and of the workers it starts.

    Restarting it then disturbs no other test using the shared Redis (an xdist worker next
    door, or someone else's run on the same machine)."""
    from config.celery import app

    port = free_port()
    start_redis(port, tmp_path)
    with pytest.MonkeyPatch.context() as patch:
        # Celery takes CELERY_BROKER_URL before its settings: here, and in start_worker's processes.
        patch.setenv("CELERY_BROKER_URL", f"redis://127.0.0.1:{port}/0")
        forget_broker_pools(app)
        yield port
    forget_broker_pools(app)
    subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], check=False, capture_output=True)


def forget_broker_pools(app) -> None:
    """Make this process's Celery app look its connection pools up again, for the broker it names now
    (kombu keeps one per address, so the shared broker's is still there when switched back)."""
    app._pool = None
    app.amqp._producer_pool = None


@pytest.mark.redis
def test_restarting_redis_with_work_in_flight_loses_nothing(start_worker, private_redis, tmp_path, settings):
    from config.celery import app

    if not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("the broker is not Redis here")
    app.control.purge()
    path = tmp_path / "wms.sqlite3"
    stock_source(path, 3_000)
    flow = stock_flow(path, batch_size=100)
    run = actions.start_run(flow)  # queued while no worker runs
    restart_redis(private_redis, tmp_path)  # no persistence: the queued message is gone
    # As if the sweeper's grace for a queued run had passed: it now counts the run's message as lost.
    Run.objects.filter(pk=run.pk).update(queued_at=F("queued_at") - sweeper.QUEUED_GRACE)
    start_worker("sync")

    run = sweep_until_finished(run.pk)
    with sqlite3.connect(path) as db:
        delivered = [r[0] for r in db.execute("SELECT id FROM stock_copy")]
    assert report(run, {f"S{n:06d}" for n in range(3_000)}, delivered) == (0, 0)
    assert run.status == RunStatus.SUCCEEDED


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(port: int, folder) -> None:
    """A Redis without persistence on ``port``, as stack-notes.md describes the shared one."""
    subprocess.run(
        [
            *("redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(port)),
            *("--save", "", "--appendonly", "no", "--dir", str(folder), "--logfile", str(folder / "redis.log")),
        ],
        check=True,
    )
    wait_for(lambda: _ping(port), timeout=20, message=f"Redis on port {port}")


def restart_redis(port: int, folder) -> None:
    """Stop the Redis on ``port`` without saving and start it again."""
    subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], check=False, capture_output=True)
    start_redis(port, folder)


def _ping(port: int):
    import redis

    try:
        return redis.Redis(port=port).ping()
    except redis.RedisError:
        return False


def test_a_target_that_is_down_for_a_while_gets_everything_when_it_returns(sync_worker, tmp_path):
    path = make_target_db(tmp_path / "target.sqlite3")
    source = webhook_connector()
    target = sql_connector(tmp_path / "offline" / "target.sqlite3")  # down: its folder does not exist
    flow = customer_flow(source, target, max_attempts=20, retry_base_seconds=1)
    records = [
        {"id": f"C-{n}", "first_name": "Ann", "last_name": f"Person{n}", "email": f"p{n}@example.com"}
        for n in range(30)
    ]
    InboundEvent.objects.create(connector=source, event_id="batch-1", records=records)
    run = actions.start_run(flow)

    wait_for(
        lambda: fresh(lambda: RecordOutcome.objects.filter(run=run, status=OutcomeStatus.RETRYING).count() == 30),
        timeout=60,
        message=f"the first failed attempts (log {sync_worker.log_path})",
    )
    assert fresh(lambda: Run.objects.get(pk=run.pk).finished) is False
    target.settings = {**target.settings, "path": str(path)}  # back up
    target.save()
    run = sweep_until_finished(run.pk, timeout=120)
    assert run.created == 30 and len(target_rows(path)) == 30
    target.refresh_from_db()
    assert (target.circuit, target.consecutive_failures) == ("closed", 0)  # the breaker let go once it was back
