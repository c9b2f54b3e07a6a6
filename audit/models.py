"""The hash chain over the audit trail, kept beside django-auditlog's table, never inside it.

auditlog's ``LogEntry`` stays as it is; a separate append-only chain seals
each entry after it is committed (``audit/chain.py`` explains why). These
tables are the chain's own bookkeeping and are not themselves audited
(config/settings.py): their integrity is what ``verify_audit_trail`` checks.
"""

from django.db import models


class AuditPending(models.Model):
    """An entry written but not sealed yet.

    Filled by a database trigger on auditlog's table (migration 0002), so
    entries from ``bulk_create`` or raw SQL are queued too; the sealer empties it.
    """

    entry_id = models.BigIntegerField(primary_key=True)

    class Meta:
        verbose_name = "pending audit entry"
        verbose_name_plural = "pending audit entries"

    def __str__(self):
        return f"entry {self.entry_id}"


class AuditSeal(models.Model):
    """One link of the chain: ``hash = SHA-256(seq, prev_hash, canonical entry)``.

    ``entry_id`` is a plain integer, not a foreign key: a deleted entry must
    leave its seal behind, or the deletion could not be detected.
    """

    seq = models.BigIntegerField(primary_key=True)
    entry_id = models.BigIntegerField(unique=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    sealed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seq"]

    def __str__(self):
        return f"#{self.seq} {self.hash[:12]}"


class AuditAnchor(models.Model):
    """Where the chain starts after a purge: the last purged seal's number and hash."""

    seq = models.BigIntegerField(unique=True)
    hash = models.CharField(max_length=64)
    purged_before = models.DateTimeField()
    entries = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-seq"]

    def __str__(self):
        return f"anchor #{self.seq}"


class ChainCheck(models.Model):
    """The result of one verification, for the auditor's page and for spotting a cut-off tail."""

    checked_at = models.DateTimeField(auto_now_add=True)
    ok = models.BooleanField()
    checked = models.BigIntegerField(default=0)
    head_seq = models.BigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, blank=True)
    problem = models.TextField(blank=True)

    class Meta:
        ordering = ["-checked_at", "-pk"]
        get_latest_by = "checked_at"

    def __str__(self):
        return f"{'ok' if self.ok else 'BROKEN'} at {self.checked_at:%Y-%m-%d %H:%M}"
