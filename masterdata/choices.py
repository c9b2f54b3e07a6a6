from django.db import models


class SourceStatus(models.TextChoices):
    LINKED = "linked", "Linked to a golden record"
    QUARANTINED = "quarantined", "Quarantined"


class CandidateStatus(models.TextChoices):
    OPEN = "open", "Open"
    MERGED = "merged", "Merged"
    NOT_DUPLICATE = "not_duplicate", "Not a duplicate"
    SUPERSEDED = "superseded", "Superseded"  # one side was merged away by another decision


class Strategy(models.TextChoices):
    MOST_RECENT = "most_recent", "Most recent"
    MOST_TRUSTED = "most_trusted", "Most trusted source"
    MOST_COMPLETE = "most_complete", "Most complete"


class IngestResult(models.TextChoices):
    CREATED = "created", "New golden record"
    LINKED = "linked", "Linked to an existing golden record"
    REVIEW = "review", "Sent to review"
    QUARANTINED = "quarantined", "Quarantined"
    UNCHANGED = "unchanged", "Unchanged"


class JobStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a worker"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
