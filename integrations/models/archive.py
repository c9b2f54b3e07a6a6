from django.db import models

from integrations.choices import ArchiveAction, ArchiveStatus


class TargetArchive(models.Model):
    """A golden record merged away, archived at a target that holds it (or, after the merge
    is undone, restored there): integrations/engine/archives.py.

    Like runs, the system's own record of what it did; the merge itself is in the audit trail.
    """

    merge = models.ForeignKey("masterdata.Merge", on_delete=models.CASCADE, related_name="target_archives")
    action = models.CharField(max_length=10, choices=ArchiveAction.choices)
    target = models.ForeignKey("integrations.Connector", on_delete=models.CASCADE, related_name="archives")
    entity = models.CharField(max_length=20)
    subject = models.CharField(max_length=300)
    remote_id = models.CharField(max_length=255, help_text="The record's id in the target.")
    payload = models.JSONField(default=dict, help_text="What Junction last sent for it.")
    status = models.CharField(max_length=10, choices=ArchiveStatus.choices, default=ArchiveStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="When a pending one is tried again.")
    error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="archive_pending", condition=models.Q(status="pending")),
        ]

    def __str__(self):
        return f"{self.get_action_display()} {self.subject} at {self.target}"
