from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.querysets import RestrictedQuerySet

from .choices import Component


class HeartbeatQuerySet(RestrictedQuerySet):
    def alive(self):
        """Heartbeats recent enough to count the component as running."""
        cutoff = timezone.now() - timedelta(seconds=settings.JUNCTION_HEARTBEAT_STALE_AFTER)
        return self.filter(last_seen__gte=cutoff)


class Heartbeat(models.Model):
    """The last sign of life of one worker (per hostname) or of the scheduler."""

    component = models.CharField(max_length=20, choices=Component.choices)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField(null=True, blank=True)
    started = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now, db_index=True)

    objects = HeartbeatQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["component", "hostname"], name="heartbeat_unique_source")]
        ordering = ["component", "hostname"]

    def __str__(self):
        return f"{self.get_component_display()} {self.hostname}"

    @classmethod
    def beat(cls, component: str, hostname: str, pid: int | None = None) -> None:
        """Record that ``component`` on ``hostname`` is alive now."""
        now = timezone.now()
        updated = cls.objects.filter(component=component, hostname=hostname).update(last_seen=now, pid=pid)
        if not updated:
            cls.objects.update_or_create(
                component=component, hostname=hostname, defaults={"last_seen": now, "started": now, "pid": pid}
            )
