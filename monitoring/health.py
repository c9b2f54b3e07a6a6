"""The checks behind /healthz. Each returns (ok, detail) and never raises."""

from django.conf import settings
from django.db import connection

from config.celery import app

from .choices import Component
from .models import Heartbeat

BROKER_TIMEOUT = 3  # seconds; a load balancer's probe must not hang


def check_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True, connection.vendor
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"


def check_broker():
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT)
            return True, conn.as_uri()  # as_uri() leaves the password out
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"


def check_heartbeat(component: str):
    try:
        alive = list(Heartbeat.objects.filter(component=component).alive().values_list("hostname", flat=True))
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"
    if alive:
        return True, alive
    return False, f"no heartbeat in the last {settings.JUNCTION_HEARTBEAT_STALE_AFTER} s"


CHECKS = {
    "database": check_database,
    "broker": check_broker,
    "workers": lambda: check_heartbeat(Component.WORKER),
    "scheduler": lambda: check_heartbeat(Component.SCHEDULER),
}


def run_checks(with_detail: bool = True) -> dict:
    """All checks: ``{"status": "ok"|"down", "down": [...], "checks": {...}}``.

    ``detail`` (worker names, broker address, error text) only ``with_detail``."""
    results = {}
    for name, check in CHECKS.items():
        ok, detail = check()
        results[name] = {"ok": ok, "detail": detail} if with_detail else {"ok": ok}
    down = [name for name, result in results.items() if not result["ok"]]
    return {"status": "down" if down else "ok", "down": down, "checks": results}
