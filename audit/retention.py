"""Purging audit entries older than the retention window, without breaking the chain.

The chain can only lose a *prefix*: a purge removes seals 1..N (and their
entries) where N is the last seal, in chain order, whose entry is older than
the cut-off; an anchor keeps seal N's number and hash, so verification starts
from it. The purge is itself recorded (an ``audit.purged`` event naming the
anchor), and verification rejects an anchor no recorded purge made.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from auditlog.models import LogEntry
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import chain, verify
from .choices import AuditEvent
from .events import record_event
from .models import AuditAnchor, AuditSeal

BATCH_SIZE = 5000


class PurgeRefused(Exception):
    """The purge would touch the retention window, or the chain is broken (purging could hide why)."""


@dataclass(frozen=True)
class PurgeResult:
    entries: int
    anchor: AuditAnchor | None


def earliest_allowed_cutoff() -> datetime:
    """Entries at or after this instant are inside the retention window."""
    return timezone.now() - timedelta(days=settings.JUNCTION_AUDIT_RETENTION_DAYS)


def purge(before: datetime, *, actor=None, batch_size: int = BATCH_SIZE) -> PurgeResult:
    """Delete sealed entries older than ``before`` in batches, leaving a verifiable chain.

    Refuses a cut-off inside the retention window, and a chain that does not
    verify: a break in the part to be purged would be erased with it.
    """
    limit = earliest_allowed_cutoff()
    if before > limit:
        raise PurgeRefused(
            f"{before:%Y-%m-%d} is inside the retention window of {settings.JUNCTION_AUDIT_RETENTION_DAYS} days: "
            f"only entries before {limit:%Y-%m-%d %H:%M} may be purged."
        )
    chain.seal_pending()
    report = verify.verify()
    if not report.ok:
        raise PurgeRefused(f"The audit trail does not verify, so nothing is purged: {report.first_break.message}")
    last = _last_purgeable_seal(before)
    if last is None:
        return PurgeResult(0, None)
    anchor, deleted = _anchor_and_delete(last, before, batch_size)
    record_event(
        AuditEvent.PURGED,
        actor=actor,
        repr_="Audit trail",
        before=before.isoformat(),
        entries=deleted,
        anchor_seq=anchor.seq,
        anchor_hash=anchor.hash,
    )
    chain.seal_pending()  # the purge event joins the chain at once
    return PurgeResult(deleted, anchor)


def _last_purgeable_seal(before: datetime) -> AuditSeal | None:
    """The last seal of the chain's prefix whose entries are all older than ``before``."""
    newer = LogEntry.objects.filter(timestamp__gte=before).values("pk")
    first_kept = AuditSeal.objects.filter(entry_id__in=newer).order_by("seq").values_list("seq", flat=True).first()
    prefix = AuditSeal.objects.all() if first_kept is None else AuditSeal.objects.filter(seq__lt=first_kept)
    return prefix.order_by("-seq").first()


def _anchor_and_delete(last: AuditSeal, before: datetime, batch_size: int) -> tuple[AuditAnchor, int]:
    with transaction.atomic():
        chain.lock()
        anchor = AuditAnchor.objects.create(seq=last.seq, hash=last.hash, purged_before=before)
    deleted = 0
    while True:
        with transaction.atomic():
            chain.lock()
            seals = list(AuditSeal.objects.filter(seq__lte=anchor.seq).order_by("seq")[:batch_size])
            if not seals:
                break
            deleted += LogEntry.objects.filter(pk__in=[s.entry_id for s in seals]).delete()[0]
            AuditSeal.objects.filter(seq__in=[s.seq for s in seals]).delete()
    AuditAnchor.objects.filter(pk=anchor.pk).update(entries=deleted)
    anchor.entries = deleted
    return anchor, deleted
