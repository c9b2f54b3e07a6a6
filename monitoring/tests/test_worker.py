"""Real Celery worker processes: heartbeat, task execution, clean shutdown.

The broker is whatever the settings say: Redis in CI (REDIS_URL), the
filesystem transport on a machine without it; both are real brokers.
"""

import signal

import pytest
from django.db import connections

from config.celery import app
from conftest import wait_for
from monitoring.choices import Component
from monitoring.models import Heartbeat

pytestmark = pytest.mark.worker


def worker_heartbeats(prefix):
    connections.close_all()  # see the worker's commits, not a stale snapshot
    return list(Heartbeat.objects.filter(component=Component.WORKER, hostname__startswith=prefix))


def test_worker_records_heartbeat_and_removes_it_on_shutdown(start_worker):
    worker = start_worker()
    beats = wait_for(lambda: worker_heartbeats(worker.queue), message="the worker's heartbeat")
    assert beats[0].pid == worker.pid
    first_seen = beats[0].last_seen
    wait_for(lambda: worker_heartbeats(worker.queue)[0].last_seen > first_seen, message="a second heartbeat")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=20) == 0
    assert worker_heartbeats(worker.queue) == []


def test_worker_runs_a_task_from_the_broker(start_worker):
    worker = start_worker()
    wait_for(lambda: worker_heartbeats(worker.queue), message="the worker to start")
    app.send_task("monitoring.tasks.scheduler_heartbeat", queue=worker.queue)

    def scheduler_beat():
        connections.close_all()
        return Heartbeat.objects.filter(component=Component.SCHEDULER).first()

    assert wait_for(scheduler_beat, message="the task's database write")
    with open(worker.log_path) as log:
        assert "monitoring.tasks.scheduler_heartbeat" in log.read()


@pytest.mark.redis
def test_redis_is_the_broker_when_configured(start_worker, client, personas):
    client.force_login(personas["engineer"])
    with app.connection_for_write() as conn:
        assert conn.transport.driver_type == "redis"
    worker = start_worker()
    wait_for(lambda: worker_heartbeats(worker.queue), message="the worker on Redis")
    Heartbeat.beat(Component.SCHEDULER, "beat")
    body = client.get("/healthz").json()
    assert body["checks"]["broker"]["detail"].startswith("redis://")
    assert body["status"] == "ok", body
