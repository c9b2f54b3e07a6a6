from django.conf import settings
from django.db import models

from accounts.querysets import RestrictedQuerySet
from masterdata.choices import JobStatus, Strategy
from masterdata.entities import Entity


class SurvivorshipRule(models.Model):
    """How a golden value is chosen among its source records, per entity and field.

    A rule with an empty ``field`` is the entity's default; without any rule the
    most recent non-empty value wins. ``trusted_systems`` lists System ids, most
    trusted first, for the "most trusted source" strategy.
    """

    entity = models.CharField(max_length=20, choices=Entity.choices)
    field = models.CharField(max_length=50, blank=True, help_text="Empty: the default for the entity.")
    strategy = models.CharField(max_length=20, choices=Strategy.choices, default=Strategy.MOST_RECENT)
    trusted_systems = models.JSONField(default=list, blank=True, help_text="System ids, most trusted first.")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["entity", "field"]
        constraints = [models.UniqueConstraint(fields=["entity", "field"], name="survivorship_rule_once")]

    def __str__(self):
        return f"{self.entity}.{self.field or '*'}: {self.get_strategy_display()}"


class RuleApplication(models.Model):
    """One pass of the current survivorship rules over every active golden record of an entity.

    Rules are read whenever a golden record is recomputed, so changing one changes
    nothing stored until this runs (``masterdata/services/apply_rules.py``). A worker
    goes through the records in id order, a batch per transaction; ``position`` (the
    last golden record id done) and the counts are written in each batch's transaction,
    so a task delivered again carries on where the last committed batch ended.
    """

    entity = models.CharField(max_length=20, choices=Entity.choices)
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING)
    total = models.PositiveIntegerField(default=0, help_text="Active golden records when it was requested.")
    examined = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0, help_text="Golden records whose values changed.")
    position = models.BigIntegerField(default=0, help_text="The last golden record id done.")
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    progressed = models.DateTimeField(null=True, blank=True, help_text="When the worker last finished a batch.")
    finished = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity"],
                condition=models.Q(status__in=[JobStatus.PENDING, JobStatus.RUNNING]),
                name="rule_application_one_per_entity",
            )
        ]

    def __str__(self):
        return f"Survivorship rules applied to {self.get_entity_display().lower()} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        return min(100, int(100 * self.examined / self.total)) if self.total else 0
