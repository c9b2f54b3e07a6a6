from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The auditor's view of the django-auditlog trail: search, inspect, export."""

    name = "audit"
    verbose_name = "Audit trail"
