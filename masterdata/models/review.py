from django.conf import settings
from django.db import models
from django.db.models import F, Q

from accounts.querysets import RestrictedQuerySet
from masterdata.choices import CandidateStatus
from masterdata.entities import Entity


class DuplicateCandidate(models.Model):
    """Two golden records the matcher thinks may be one, waiting for a steward.

    A pair is stored once (``left_id < right_id``); a "not a duplicate" decision
    keeps the row, so the matcher never proposes the pair again.
    """

    entity = models.CharField(max_length=20, choices=Entity.choices)
    left = models.ForeignKey("masterdata.GoldenRecord", on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey("masterdata.GoldenRecord", on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    fields = models.JSONField(default=dict, help_text="Per-field similarity behind the score.")
    status = models.CharField(max_length=20, choices=CandidateStatus.choices, default=CandidateStatus.OPEN)
    created = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-score", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["left", "right"], name="candidate_pair_once"),
            models.CheckConstraint(condition=Q(left__lt=F("right")), name="candidate_pair_ordered"),
        ]
        indexes = [
            models.Index(fields=["status", "entity", "-score"], name="candidate_queue"),
            models.Index(fields=["status", "created"], name="candidate_age"),
        ]

    def __str__(self):
        return f"{self.left} ~ {self.right} ({self.score:.2f})"


class Merge(models.Model):
    """One merge of ``absorbed`` into ``survivor``, with everything needed to undo it."""

    survivor = models.ForeignKey("masterdata.GoldenRecord", on_delete=models.PROTECT, related_name="merges")
    absorbed = models.ForeignKey("masterdata.GoldenRecord", on_delete=models.PROTECT, related_name="merged_away")
    candidate = models.ForeignKey(DuplicateCandidate, on_delete=models.SET_NULL, null=True, blank=True)
    survivor_before = models.JSONField(help_text="The survivor's values and lineage before the merge.")
    chosen = models.JSONField(default=dict, help_text="field -> the value the steward chose.")
    moved_source_ids = models.JSONField(default=list, help_text="Source records moved to the survivor.")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"{self.absorbed} → {self.survivor}"
