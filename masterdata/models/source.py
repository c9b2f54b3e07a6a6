from django.db import models
from django.utils import timezone

from accounts.querysets import RestrictedQuerySet
from masterdata.choices import SourceStatus
from masterdata.entities import Entity


class SourceRecord(models.Model):
    """A record exactly as a source system sent it, and what cleansing made of it.

    ``golden`` is the cross-reference (xref): every linked source record belongs to
    exactly one golden record. Quarantined records keep their payload and the
    reason, so nothing is ever dropped.
    """

    system = models.ForeignKey("integrations.System", on_delete=models.PROTECT, related_name="source_records")
    entity = models.CharField(max_length=20, choices=Entity.choices)
    external_id = models.CharField(max_length=255)
    payload = models.JSONField(help_text="The record as the source sent it.")
    payload_hash = models.CharField(max_length=64)
    locale = models.CharField(max_length=20, blank=True)
    values = models.JSONField(default=dict, help_text="Cleansed, canonical values.")
    changes = models.JSONField(default=list, help_text="What cleansing changed: field, before, after, rule.")
    warnings = models.JSONField(default=dict)
    errors = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=SourceStatus.choices)
    golden = models.ForeignKey(
        "masterdata.GoldenRecord", on_delete=models.PROTECT, null=True, blank=True, related_name="source_records"
    )
    received_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["system", "entity", "external_id"], name="source_record_identity")
        ]
        indexes = [models.Index(fields=["status", "entity", "-received_at"], name="source_status_recent")]

    def __str__(self):
        return f"{self.system} {self.entity} {self.external_id}"

    @property
    def quarantine_reason(self) -> str:
        return "; ".join(f"{field}: {reason}" for field, reason in self.errors.items())
