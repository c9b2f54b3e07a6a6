import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from accounts.querysets import RestrictedQuerySet
from integrations.choices import Action, OutcomeStatus, RunStatus, Stage, Trigger

COUNTERS = ("read", "filtered", "created", "updated", "unchanged", "planned", "quarantined", "failed", "dead_lettered")


class Run(models.Model):
    """One execution of a flow. Counts are kept here, not counted per request."""

    flow = models.ForeignKey("integrations.Flow", on_delete=models.PROTECT, related_name="runs")
    stage = models.CharField(max_length=10, choices=Stage.choices)
    trigger = models.CharField(
        max_length=10, choices=[*Trigger.choices, ("replay", "Replay"), ("restore", "Sent again after deletion")]
    )
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    # A "restore" run: the reconciliation whose records gone from a target it sends again.
    reconciliation = models.ForeignKey(
        "integrations.Reconciliation", on_delete=models.SET_NULL, null=True, blank=True, related_name="resend_runs"
    )
    read = models.PositiveIntegerField(default=0)
    filtered = models.PositiveIntegerField(default=0, help_text="Left out by the flow's filters or the pilot filter.")
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    planned = models.PositiveIntegerField(default=0, help_text="Changes a dry run would make.")
    quarantined = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0, help_text="Rejected by a target (permanent error).")
    dead_lettered = models.PositiveIntegerField(default=0)
    # Extraction: where it started, how far it has committed, and a lease so the sweeper can resume a lost one.
    watermark_start = models.TextField(blank=True)
    watermark = models.TextField(blank=True)
    extracted = models.BooleanField(default=False)
    lease_until = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Why the whole run failed, if it did.")
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["flow", "-id"], name="run_flow_recent"),
            models.Index(fields=["queued_at"], name="run_queued_at"),  # the dashboard's last 24 hours
            models.Index(
                fields=["status"], name="run_status", condition=~Q(status__in=["succeeded", "partial", "failed"])
            ),
        ]

    def __str__(self):
        return f"{self.flow} run {self.pk}"

    def get_absolute_url(self):
        return reverse("integrations:run_detail", args=[self.pk])

    @property
    def dry_run(self) -> bool:
        return self.stage == Stage.TEST

    @property
    def finished(self) -> bool:
        return self.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL, RunStatus.FAILED)


class RecordOutcome(models.Model):
    """One record of a run bound for one target: the outbox row and its result.

    Written before any message is queued, so a lost message or a killed worker
    loses nothing: the sweeper finds due rows and queues them again.
    """

    # No index of their own: outcome_run_keyset and outcome_flow_status start with them, and
    # every index is written again on each of a row's three writes (staged, claimed, done).
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="outcomes", db_index=False)
    flow = models.ForeignKey("integrations.Flow", on_delete=models.CASCADE, related_name="outcomes", db_index=False)
    # Null when the record was quarantined before a target was chosen (it failed cleansing or validation).
    target = models.ForeignKey(
        "integrations.Connector", on_delete=models.PROTECT, null=True, blank=True, related_name="outcomes"
    )
    external_id = models.CharField(max_length=255)
    # sha256 of (source, entity, external id, version or payload hash): a re-delivery has the same key.
    idempotency_key = models.CharField(max_length=64)
    # Whom this record is about on the target: "golden:<id>" for master data, "<source>:<external id>" otherwise.
    subject = models.CharField(max_length=300, blank=True)
    payload = models.JSONField(help_text="The record as the source sent it.")
    payload_hash = models.CharField(max_length=64)
    mapped = models.JSONField(null=True, blank=True, help_text="What is (or would be) sent to the target.")
    diff = models.JSONField(null=True, blank=True, help_text="Dry run: field → [now, after].")
    status = models.CharField(max_length=12, choices=OutcomeStatus.choices, default=OutcomeStatus.PENDING)
    action = models.CharField(max_length=10, choices=Action.choices, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    remote_id = models.CharField(max_length=255, blank=True, help_text="The record's id in the target system.")
    error_class = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)
    discard_reason = models.TextField(blank=True)
    # A dry run's row is a plan: it claims no key, waits in no queue and is never replayed.
    dry_run = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        constraints = [
            # Nothing duplicated: one row per record version per target (dry runs plan, they don't claim).
            models.UniqueConstraint(
                fields=["target", "idempotency_key"],
                condition=Q(dry_run=False),
                name="outcome_once_per_target",
            ),
        ]
        indexes = [
            models.Index(fields=["run", "id"], name="outcome_run_keyset"),
            models.Index(fields=["run", "status", "id"], name="outcome_run_status"),
            models.Index(
                fields=["next_attempt_at"],
                name="outcome_due",
                condition=Q(status__in=["pending", "retrying"]),
            ),
            models.Index(fields=["flow", "status", "-id"], name="outcome_flow_status"),
            # The dead-letter queue per flow (the dashboard, alerts): a few rows among millions.
            models.Index(
                fields=["flow"],
                name="outcome_waiting",
                condition=Q(status__in=["dead", "quarantined"], dry_run=False),
            ),
        ]

    def __str__(self):
        return f"{self.external_id} → {self.target or 'quarantine'}"

    def get_absolute_url(self):
        return reverse("integrations:outcome_detail", args=[self.pk])


class Delivery(models.Model):
    """The target's id for a subject (the cross-reference on the target side)."""

    target = models.ForeignKey("integrations.Connector", on_delete=models.CASCADE, related_name="deliveries")
    entity = models.CharField(max_length=20)
    subject = models.CharField(max_length=300)
    remote_id = models.CharField(max_length=255)
    last_key = models.CharField(max_length=64)
    payload = models.JSONField(default=dict, help_text="What was last sent; dry runs diff against it.")
    # Where the last delivery came from: a merge maps the golden record's new values the same way.
    flow = models.ForeignKey(
        "integrations.Flow", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    external_id = models.CharField(max_length=255, blank=True, help_text="The source record of the last delivery.")
    delivered_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["target", "entity", "subject"], name="delivery_identity")]
        # A golden record's copies at every target (a merge archives them): master data only, so
        # the deliveries of transactional records (most of them) write no entry here.
        indexes = [
            models.Index(fields=["subject"], name="delivery_golden", condition=Q(subject__startswith="golden:")),
        ]

    def __str__(self):
        return f"{self.entity} {self.subject} → {self.target}:{self.remote_id}"


class InboundEvent(models.Model):
    """A webhook delivery, stored before the 202 is sent; idempotent on the sender's event id."""

    # No index of its own: inbound_event_once (connector, event_id) serves every lookup by connector,
    # and each accepted webhook would write one more index entry.
    connector = models.ForeignKey(
        "integrations.Connector", on_delete=models.PROTECT, related_name="inbound_events", db_index=False
    )
    event_id = models.CharField(max_length=255)
    receipt = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    records = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    run = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_events")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connector", "event_id"], name="inbound_event_once")]
        indexes = [models.Index(fields=["connector", "id"], name="inbound_pending", condition=Q(run__isnull=True))]

    def __str__(self):
        return f"{self.connector} event {self.event_id}"
