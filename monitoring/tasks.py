from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from .choices import Component
from .models import Heartbeat

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
