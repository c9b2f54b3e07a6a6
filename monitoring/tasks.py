import logging
from datetime import timedelta
from smtplib import SMTPException

import httpx
from celery import shared_task
from django.utils import timezone

from . import notify
from .choices import Component
from .models import Alert, Heartbeat

log = logging.getLogger(__name__)

SCHEDULER_HOSTNAME = "beat"


@shared_task(name="monitoring.tasks.scheduler_heartbeat", ignore_result=True)
def scheduler_heartbeat():
    """Sent by beat every 15 s and run by a worker: proves beat → broker → worker → database."""
    Heartbeat.beat(Component.SCHEDULER, SCHEDULER_HOSTNAME)


@shared_task(name="monitoring.tasks.prune_heartbeats", ignore_result=True)
def prune_heartbeats(older_than_hours: int = 24):
    """Forget workers that have been silent for a day (they were scaled down or renamed)."""
    cutoff = timezone.now() - timedelta(hours=older_than_hours)
    deleted, _ = Heartbeat.objects.filter(last_seen__lt=cutoff).delete()
    return deleted


@shared_task(name="monitoring.tasks.evaluate_alerts", ignore_result=True)
def evaluate_alerts():
    """Sent by beat every JUNCTION_ALERT_EVALUATE_SECONDS: open and resolve alerts (monitoring/alerts.py)."""
    from .alerts import evaluate

    result = evaluate()
    if result.opened or result.resolved:
        log.info("Alerts: %d opened, %d resolved, %d open", len(result.opened), len(result.resolved), result.still_open)


# A channel that is down is retried for about an hour (backoff 1, 2, 4 … 10 minutes), then given up
# with an ERROR in the worker log; the alert itself stays in the portal either way.
NOTIFY_RETRY = {"max_retries": 8, "retry_backoff": 60, "retry_backoff_max": 600, "retry_jitter": True}


@shared_task(
    name="monitoring.tasks.notify_email", ignore_result=True, autoretry_for=(OSError, SMTPException), **NOTIFY_RETRY
)
def notify_email(alert_id: int, event: str):
    alert = Alert.objects.filter(pk=alert_id).first()
    if alert is not None:  # deleted with its flow or connector meanwhile: nothing to say
        notify.send_email(alert, event)


@shared_task(
    name="monitoring.tasks.notify_webhook", ignore_result=True, autoretry_for=(httpx.HTTPError,), **NOTIFY_RETRY
)
def notify_webhook(alert_id: int, event: str):
    alert = Alert.objects.filter(pk=alert_id).first()
    if alert is not None:
        notify.post_webhook(alert, event)
