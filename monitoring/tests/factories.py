"""Alerts for the page, API and browser tests: from real conditions through ``evaluate()``, or made directly."""

import itertools
from datetime import timedelta

from django.utils import timezone

from integrations.choices import CircuitState, RunStatus, Stage
from integrations.tests.pages import make_flow, make_run, rest_connector
from monitoring.choices import AlertKind, Severity
from monitoring.models import Alert

_serial = itertools.count(1)


def make_alert(
    title: str = "Something needs a look",
    *,
    flow=None,
    connector=None,
    kind=AlertKind.RUN_FAILED,
    severity=Severity.CRITICAL,
    minutes_ago: int = 0,
    **fields,
) -> Alert:
    """An alert as ``evaluate()`` would store it; about ``flow``, ``connector``, or (neither) the workers."""
    opened = timezone.now() - timedelta(minutes=minutes_ago)
    return Alert.objects.create(
        key=f"test:{next(_serial)}",
        kind=kind,
        severity=severity,
        title=title,
        detail=fields.pop("detail", f"What was seen about {title}."),
        flow=flow,
        connector=connector,
        opened_at=opened,
        last_seen_at=fields.pop("last_seen_at", opened),
        **fields,
    )


def worker_alert(title: str = "Worker celery@box-2 has been silent for 5 minutes", **fields) -> Alert:
    return make_alert(title, kind=AlertKind.WORKER_SILENT, **fields)


def paused_connector(name: str = "ERP REST", owner=None, error: str = "503 Service Unavailable"):
    """A connector whose circuit breaker opened: ``evaluate()`` raises a critical alert about it."""
    connector = rest_connector(name, owner=owner)
    connector.circuit = CircuitState.OPEN
    connector.last_error = error
    connector.circuit_retry_at = timezone.now() + timedelta(minutes=5)
    connector.save()
    return connector


def failing_flow(name: str = "Customers to ERP", owner=None, error: str = "ERP refused the login"):
    """A live flow whose last run failed: ``evaluate()`` raises a critical alert about it."""
    flow = make_flow(name, stage=Stage.LIVE, owner=owner)
    make_run(flow, status=RunStatus.FAILED, error=error)
    return flow
