from django.db import models
from django.urls import reverse

from accounts.querysets import RestrictedQuerySet
from masterdata.entities import SCHEMAS, Entity


class GoldenRecordQuerySet(RestrictedQuerySet):
    def active(self):
        return self.filter(merged_into__isnull=True)


class GoldenRecord(models.Model):
    """The one trusted version of a customer, product, supplier or location.

    ``values`` holds canonical values keyed by the entity's field names;
    ``lineage`` says which source record supplied each of them. A record merged
    into another keeps its row (``merged_into`` set) so the merge can be undone.
    """

    entity = models.CharField(max_length=20, choices=Entity.choices)
    display_name = models.CharField(max_length=255)
    values = models.JSONField(default=dict)
    lineage = models.JSONField(default=dict, help_text="field -> id of the source record that supplied it")
    pinned = models.JSONField(default=dict, blank=True, help_text="field -> value a steward chose; wins over rules")
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="absorbed_records"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = GoldenRecordQuerySet.as_manager()

    class Meta:
        ordering = ["display_name", "pk"]
        indexes = [
            models.Index(fields=["entity", "merged_into", "display_name"], name="golden_entity_name"),
            models.Index(fields=["entity", "-updated"], name="golden_entity_updated"),
        ]

    def __str__(self):
        return self.display_name

    def get_absolute_url(self):
        return reverse("masterdata:goldenrecord_detail", args=[self.pk])

    @property
    def schema(self):
        return SCHEMAS[self.entity]

    @property
    def is_active(self) -> bool:
        return self.merged_into_id is None


class BlockingKey(models.Model):
    """An indexed matching key of a golden record: a new record finds its
    candidates by looking its own keys up here instead of scanning every record.
    ``rank`` is the golden record's place inside the key's block (its name, say):
    a new record meets the holders nearest it there, a few on each side, not a
    whole block of every "Smith, J." (``matching.sort_positions``).
    Only active golden records hold keys (a merge removes the absorbed record's), each under its
    entity, so a block's index walk needs no look at the golden records themselves.
    Derived data, rebuilt from the golden values; not audited."""

    # No index of its own: the unique (golden, key) serves lookups by golden record (one index
    # less to write for each of the ~10 keys of every record).
    golden = models.ForeignKey(GoldenRecord, on_delete=models.CASCADE, related_name="blocking_keys", db_index=False)
    entity = models.CharField(max_length=20, choices=Entity.choices)  # the golden record's: entities share key texts
    key = models.CharField(max_length=200)
    rank = models.BinaryField(default=b"")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["golden", "key"], name="blocking_key_unique")]
        # A block read from a record's place outwards, in either direction (and by key alone).
        indexes = [models.Index(fields=["entity", "key", "rank", "golden"], name="blocking_key_window")]

    def __str__(self):
        return self.key
