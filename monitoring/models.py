from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.querysets import RestrictedQuerySet

from .choices import AlertKind, AlertStatus, Component, Severity


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


class AlertQuerySet(RestrictedQuerySet):
    def unresolved(self):
        return self.filter(resolved_at__isnull=True)

    def with_status(self, status: str):
        if status == AlertStatus.RESOLVED:
            return self.filter(resolved_at__isnull=False)
        acknowledged = status == AlertStatus.ACKNOWLEDGED
        return self.unresolved().filter(acknowledged_at__isnull=not acknowledged)


class Alert(models.Model):
    """A condition someone should look at. Opened by ``monitoring.alerts.evaluate`` when the
    condition starts, resolved by it when the condition ends; a person acknowledges it meanwhile.

    Like runs, alerts are the system's own record of what it saw, so auditlog does not track the
    rows; a person's acknowledgement is an access event (``alert.acknowledged``).
    """

    kind = models.CharField(max_length=30, choices=AlertKind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    key = models.CharField(max_length=200, help_text="The condition watched: at most one unresolved alert per key.")
    flow = models.ForeignKey(
        "integrations.Flow", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    connector = models.ForeignKey(
        "integrations.Connector", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    title = models.CharField(max_length=300)
    detail = models.TextField(blank=True, help_text="What was seen and what to do, for a person.")
    opened_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now, help_text="When the condition was last seen to hold.")
    resolved_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=Q(resolved_at__isnull=True), name="alert_one_unresolved_per_key"
            )
        ]
        indexes = [models.Index(fields=["-opened_at", "-id"], name="alert_recent")]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("alert_detail", args=[self.pk])

    @property
    def status(self) -> str:
        if self.resolved_at:
            return AlertStatus.RESOLVED
        return AlertStatus.ACKNOWLEDGED if self.acknowledged_at else AlertStatus.OPEN

    def get_status_display(self) -> str:
        return AlertStatus(self.status).label
