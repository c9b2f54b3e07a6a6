from django.conf import settings
from django.db import models
from django.urls import reverse

from accounts.querysets import RestrictedQuerySet
from integrations.choices import FlowEntity, ReconciliationStatus

MISSING_KEPT = 1000  # missing records listed on the row; the count is always complete


class Reconciliation(models.Model):
    """One comparison of what Junction delivered to a target with what the target holds now
    (``integrations.engine.reconcile``): the records delivered there and since deleted.

    Like runs, the system's own record of what it did, so auditlog does not track the rows;
    a person starting one is an access event (``connector.reconcile``).
    """

    target = models.ForeignKey("integrations.Connector", on_delete=models.CASCADE, related_name="reconciliations")
    entity = models.CharField(max_length=20, choices=FlowEntity.choices)
    status = models.CharField(max_length=10, choices=ReconciliationStatus.choices, default=ReconciliationStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: started by the daily schedule or a command.",
    )
    delivered = models.PositiveIntegerField(default=0, help_text="Records Junction's deliveries say the target holds.")
    present = models.PositiveIntegerField(default=0, help_text="Keys the target listed.")
    missing_count = models.PositiveIntegerField(default=0, help_text="Delivered by Junction, gone from the target.")
    missing = models.JSONField(
        default=list, blank=True, help_text=f"The first {MISSING_KEPT} missing records: key and subject."
    )
    error = models.TextField(blank=True, help_text="Why the target could not be reconciled, if it could not.")
    # A person accepted the deletions it found: Junction forgot it delivered those records.
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Or a person had them sent again: runs (trigger "restore", ``Run.reconciliation``) deliver them anew.
    resent_at = models.DateTimeField(null=True, blank=True)
    resent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["target", "entity", "-id"], name="reconciliation_latest")]

    def __str__(self):
        return f"Reconciliation {self.pk} of {self.target} ({self.entity})"

    def get_absolute_url(self):
        return reverse("integrations:reconciliation_detail", args=[self.pk])

    @property
    def settled(self) -> bool:
        """Whether someone decided what becomes of the records it found gone (accepted, or sent again)."""
        return self.accepted_at is not None or self.resent_at is not None

    @property
    def finished(self) -> bool:
        return self.status in (ReconciliationStatus.DONE, ReconciliationStatus.FAILED)
