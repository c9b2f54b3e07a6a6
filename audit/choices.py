"""Names of the access events the audit app itself records (``additional_data["event"]``)."""

from django.db import models


class AuditEvent(models.TextChoices):
    EXPORTED = "audit.exported", "Audit trail exported"
    PURGED = "audit.purged", "Audit trail purged"
