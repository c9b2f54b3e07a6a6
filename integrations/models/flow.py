from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from accounts.querysets import RestrictedQuerySet
from integrations.choices import MASTER_ENTITIES, FlowEntity, Stage, Trigger


class Flow(models.Model):
    """Records of one entity moving from a source connector to one or more targets."""

    name = models.CharField(max_length=100, unique=True)
    entity = models.CharField(max_length=20, choices=FlowEntity.choices)
    source = models.ForeignKey("integrations.Connector", on_delete=models.PROTECT, related_name="outbound_flows")
    targets = models.ManyToManyField("integrations.Connector", related_name="inbound_flows")
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    schedule_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)], help_text="For scheduled flows: run every N minutes."
    )
    # Field mapping rules and filters: see integrations/engine/mapping.py for their format.
    mapping = models.JSONField(default=list, blank=True)
    filters = models.JSONField(default=list, blank=True, help_text="Only records matching every filter are carried.")
    pilot_filter = models.JSONField(
        default=list, blank=True, help_text="In the pilot stage, only records matching these filters are delivered."
    )
    batch_size = models.PositiveIntegerField(default=500, validators=[MinValueValidator(1), MaxValueValidator(5000)])
    max_attempts = models.PositiveIntegerField(default=5, validators=[MinValueValidator(1), MaxValueValidator(50)])
    retry_base_seconds = models.PositiveIntegerField(
        default=30, validators=[MinValueValidator(1)], help_text="First retry delay; it doubles with each attempt."
    )
    stage = models.CharField(max_length=10, choices=Stage.choices, default=Stage.DRAFT)
    # Where the next incremental read starts; advanced only after records up to it are committed.
    watermark = models.TextField(blank=True)
    last_scheduled_at = models.DateTimeField(null=True, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("integrations:flow_detail", args=[self.pk])

    def clean(self):
        from django.core.exceptions import ValidationError

        if not self.source_id:
            return
        inbound = getattr(self.source.adapter_class, "inbound", False) if self.source.adapter else False
        if inbound and self.trigger != Trigger.PUSH:
            raise ValidationError({"trigger": "A webhook source pushes its records: use the inbound push trigger."})
        if self.trigger == Trigger.PUSH and not inbound:
            raise ValidationError({"trigger": "Only a webhook source can push; choose a schedule or manual runs."})
        if self.trigger == Trigger.SCHEDULE and not self.schedule_minutes:
            raise ValidationError({"schedule_minutes": "Say how often the flow runs."})
        if inbound and Flow.objects.filter(source=self.source, trigger=Trigger.PUSH).exclude(pk=self.pk).exists():
            raise ValidationError({"source": "Another flow already takes this webhook's events: one flow per webhook."})

    @property
    def carries_master_data(self) -> bool:
        return self.entity in MASTER_ENTITIES

    @property
    def writes_to_targets(self) -> bool:
        return self.stage in (Stage.PILOT, Stage.LIVE)

    @property
    def runnable(self) -> bool:
        return self.stage in (Stage.TEST, Stage.PILOT, Stage.LIVE)


class FlowUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Flow, on_delete=models.CASCADE)


class FlowGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Flow, on_delete=models.CASCADE)
