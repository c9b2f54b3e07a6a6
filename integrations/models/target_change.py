from django.db import models

from integrations.choices import ChangeAction, ChangeStatus


class TargetChange(models.Model):
    """What a merge changes at a target holding one of its golden records: the merged-away
    record archived (restored when the merge is undone), the survivor updated with its new
    values; or a golden record updated because survivorship rules applied to it changed its
    values (``application``). Exactly one of ``merge`` and ``application`` says why
    (integrations/engine/merges.py).

    Like runs, the system's own record of what it did; the merge or the rules' application
    itself is in the audit trail.
    """

    merge = models.ForeignKey(
        "masterdata.Merge", on_delete=models.CASCADE, null=True, blank=True, related_name="target_changes"
    )
    application = models.ForeignKey(
        "masterdata.RuleApplication",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="target_changes",
        help_text="The application of survivorship rules that changed the golden record.",
    )
    action = models.CharField(max_length=10, choices=ChangeAction.choices)
    target = models.ForeignKey("integrations.Connector", on_delete=models.CASCADE, related_name="merge_changes")
    entity = models.CharField(max_length=20)
    subject = models.CharField(max_length=300)
    remote_id = models.CharField(max_length=255, help_text="The record's id in the target.")
    payload = models.JSONField(default=dict, help_text="What is written: the record as mapped for the target.")
    status = models.CharField(max_length=10, choices=ChangeStatus.choices, default=ChangeStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="When a pending one is tried again.")
    error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="target_change_due", condition=models.Q(status="pending")),
            models.Index(fields=["subject"], name="target_change_by_rules", condition=models.Q(merge__isnull=True)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(merge__isnull=False, application__isnull=True)
                | models.Q(merge__isnull=True, application__isnull=False),
                name="target_change_has_one_reason",
            )
        ]

    def __str__(self):
        return f"{self.get_action_display()} {self.subject} at {self.target}"

    @property
    def reason(self) -> str:
        return "merge" if self.merge_id else "rules applied"
