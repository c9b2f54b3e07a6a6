from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The auditor's view of the django-auditlog trail: search, inspect, export; and its hash chain."""

    name = "audit"
    verbose_name = "Audit trail"

    def ready(self):
        from auditlog.models import LogEntry
        from celery.signals import before_task_publish, task_postrun, task_prerun
        from django.db.models.signals import post_save, pre_save

        from . import checks, correlation, redaction, signals, tracking  # noqa: F401 (checks registers itself)

        tracking.exclude_reverse_relations()  # auditlog registered every model in its own ready()

        # Order matters: the worker's actor and cid first, then redaction, before the row is written.
        pre_save.connect(correlation.fill_entry, sender=LogEntry, dispatch_uid="audit.fill_entry")
        pre_save.connect(redaction.redact_entry, sender=LogEntry, dispatch_uid="audit.redact_entry")
        post_save.connect(signals.entry_saved, sender=LogEntry, dispatch_uid="audit.seal")
        before_task_publish.connect(correlation.on_publish, dispatch_uid="audit.on_publish")
        task_prerun.connect(correlation.on_task_start, dispatch_uid="audit.on_task_start")
        task_postrun.connect(correlation.on_task_end, dispatch_uid="audit.on_task_end")
