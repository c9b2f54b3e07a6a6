"""/healthz: 200 when everything answers, 503 naming what is down."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.celery import app
from monitoring.choices import Component
from monitoring.models import Heartbeat

pytestmark = pytest.mark.django_db


def beat_now(component, hostname="host"):
    Heartbeat.beat(component, hostname)


def test_healthy_when_database_broker_worker_and_scheduler_answer(client_for, personas):
    beat_now(Component.WORKER, "worker@a")
    beat_now(Component.SCHEDULER, "beat")
    response = client_for(personas["engineer"]).get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["down"] == []
    assert body["checks"]["workers"]["detail"] == ["worker@a"]
    assert set(body["checks"]) == {"database", "broker", "workers", "scheduler"}
    assert response["Cache-Control"] == "no-store"


def test_no_worker_is_503_naming_workers(client):
    beat_now(Component.SCHEDULER, "beat")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["workers"]


def test_stale_heartbeat_counts_as_down(client_for, personas, settings):
    client = client_for(personas["engineer"])
    beat_now(Component.WORKER, "worker@old")
    beat_now(Component.SCHEDULER, "beat")
    Heartbeat.objects.filter(hostname="worker@old").update(
        last_seen=timezone.now() - timedelta(seconds=settings.JUNCTION_HEARTBEAT_STALE_AFTER + 1)
    )
    body = client.get("/healthz").json()
    assert body["down"] == ["workers"]
    assert "no heartbeat" in body["checks"]["workers"]["detail"]


def test_unreachable_broker_is_503_naming_broker(client_for, personas, monkeypatch):
    client = client_for(personas["engineer"])
    beat_now(Component.WORKER)
    beat_now(Component.SCHEDULER, "beat")
    # Port 9 on loopback: nothing listens there, so the connection is refused at once.
    monkeypatch.setitem(app.conf, "broker_url", "redis://127.0.0.1:9/0")
    monkeypatch.setitem(app.conf, "broker_transport_options", {})
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["broker"]
    assert "refused" in body["checks"]["broker"]["detail"].lower()


def test_anonymous_health_names_states_but_no_details(client, monkeypatch):
    beat_now(Component.WORKER, "worker@secret-host")
    monkeypatch.setitem(app.conf, "broker_url", "redis://127.0.0.1:9/0")
    monkeypatch.setitem(app.conf, "broker_transport_options", {})
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "down",
        "down": ["broker", "scheduler"],
        "checks": {
            "database": {"ok": True},
            "broker": {"ok": False},
            "workers": {"ok": True},
            "scheduler": {"ok": False},
        },
    }


def test_heartbeat_upsert_keeps_one_row_per_source():
    beat_now(Component.WORKER, "w1")
    beat_now(Component.WORKER, "w1")
    beat_now(Component.WORKER, "w2")
    assert Heartbeat.objects.filter(component=Component.WORKER).count() == 2
