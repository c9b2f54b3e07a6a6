from django.db import models


class Component(models.TextChoices):
    WORKER = "worker", "Celery worker"
    SCHEDULER = "scheduler", "Celery beat scheduler"


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    WARNING = "warning", "Warning"


class AlertKind(models.TextChoices):
    """The conditions monitoring/alerts.py watches; docs/operations.md ("Alerts") says when each opens and ends."""

    RUN_FAILED = "run_failed", "Run failed"
    RUN_PROBLEMS = "run_problems", "Run finished with problems"
    RUN_STUCK = "run_stuck", "Run taking too long"
    FLOW_LATE = "flow_late", "Scheduled flow late"
    DEAD_LETTERS = "dead_letters", "Records waiting in the dead-letter queue"
    CIRCUIT_OPEN = "circuit_open", "Target paused by its circuit breaker"
    RECORDS_GONE = "records_gone", "Delivered records gone from a target"
    RECONCILIATION_FAILED = "reconciliation_failed", "Reconciliation failed"
    WORKER_SILENT = "worker_silent", "Worker silent"


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"
