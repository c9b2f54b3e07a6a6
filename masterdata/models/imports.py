from django.conf import settings
from django.db import models

from accounts.querysets import RestrictedQuerySet
from masterdata.choices import JobStatus
from masterdata.entities import Entity


class ImportJob(models.Model):
    """A CSV of source records uploaded in the browser and ingested by a worker.

    Progress and counts are written with ``QuerySet.update`` as the worker goes,
    so the page can show a live progress bar.
    """

    system = models.ForeignKey("integrations.System", on_delete=models.PROTECT, related_name="+")
    entity = models.CharField(max_length=20, choices=Entity.choices)
    locale = models.CharField(max_length=20, blank=True)
    filename = models.CharField(max_length=255)
    content = models.TextField(help_text="The uploaded CSV.")
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, help_text="result -> number of records")
    problems = models.JSONField(default=list, help_text="[{row, external_id, reason}] for quarantined rows")
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    progressed = models.DateTimeField(
        null=True, blank=True, help_text="When a worker took it or last finished a page (stalled jobs are resumed)."
    )
    finished = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        return int(100 * self.processed / self.total) if self.total else 0
