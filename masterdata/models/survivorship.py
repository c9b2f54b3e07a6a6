from django.db import models

from accounts.querysets import RestrictedQuerySet
from masterdata.choices import Strategy
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
