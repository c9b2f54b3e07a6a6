"""A merge reaches the targets: the golden record merged away is archived where it was delivered.

When a steward merges golden record B into A, every target holding B (a
``Delivery`` of subject ``golden:<B>``) still has B's copy: the ERP would keep
two parties for one customer. ``plan`` (a receiver of ``golden_merged``, inside
the merge's transaction) writes one ``TargetArchive`` row per such target whose
adapter can archive that entity (``Adapter.archives``: Tryton's parties today);
after the commit a worker runs them (``perform``): the record is written again
as last sent, with ``"active": false``. Undoing the merge plans the opposite
(``"active": true``) for every archive that was done.

Nothing else changes at the target: A's copy gets the merged values the next
time one of its source records is delivered, and B's source records are now
delivered as A. A target that is away is tried again with growing pauses (the sweeper
queues the merge again when a row is due, or when its message was lost); a
record the target refuses fails for good, with its message on the row.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.adapters.base import OutRecord
from integrations.adapters.errors import AdapterError, TransientError
from integrations.choices import ArchiveAction, ArchiveStatus
from integrations.models import Connector, Delivery, TargetArchive

log = logging.getLogger(__name__)
ATTEMPTS = 48  # with pauses growing to 10 minutes: about 8 hours of a target being away
LOST_AFTER = timedelta(seconds=30)  # a new archive no worker took by then lost its message


def plan(merge, action: str) -> list[TargetArchive]:
    """The archives (or restores) ``merge`` calls for; queued for a worker after the commit."""
    if action == ArchiveAction.ARCHIVE:
        held = Delivery.objects.filter(entity=merge.absorbed.entity, subject=f"golden:{merge.absorbed_id}")
        held = held.filter(subject__startswith="golden:")  # the predicate of the partial index delivery_golden
        rows = [
            TargetArchive(
                merge=merge,
                action=action,
                target=delivery.target,
                entity=delivery.entity,
                subject=delivery.subject,
                remote_id=delivery.remote_id,
                payload=delivery.payload,
            )
            for delivery in held.select_related("target")
            if _archives(delivery.target, delivery.entity)
        ]
    else:  # undo what was done
        rows = [
            TargetArchive(
                merge=merge,
                action=action,
                target_id=done.target_id,
                entity=done.entity,
                subject=done.subject,
                remote_id=done.remote_id,
                payload=done.payload,
            )
            for done in merge.target_archives.filter(action=ArchiveAction.ARCHIVE, status=ArchiveStatus.DONE)
        ]
    created = TargetArchive.objects.bulk_create(rows)
    if created:
        queue(merge.pk)
    return created


def _archives(target: Connector, entity: str) -> bool:
    adapter_class = target.adapter_class
    return adapter_class is not None and entity in adapter_class.archives


def queue(merge_id: int) -> None:
    from integrations import tasks

    transaction.on_commit(lambda: tasks.archive_at_targets.delay(merge_id))


def perform(merge_id: int) -> int:
    """Run the due archives of a merge, one target at a time; how many are still pending.

    A target that cannot be reached (or is disabled) is tried again later with growing
    pauses (the sweeper queues the merge again when a row is due), up to ``ATTEMPTS``; a
    record the target refuses fails for good, with its message for a person.
    """
    now = timezone.now()
    pending = TargetArchive.objects.filter(merge_id=merge_id, status=ArchiveStatus.PENDING)
    due = pending.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)).select_related("target")
    for row in due.order_by("pk"):
        row.attempts += 1
        error = _attempt(row)
        if isinstance(error, TransientError) and row.attempts < ATTEMPTS:
            row.error = f"Will try again: {error}"
            row.next_attempt_at = timezone.now() + timedelta(seconds=min(600, 15 * 2 ** (row.attempts - 1)))
        elif error is not None:
            row.status, row.error, row.finished_at = ArchiveStatus.FAILED, str(error), timezone.now()
            log.warning("%s failed: %s", row, error)
        else:
            row.status, row.error, row.finished_at = ArchiveStatus.DONE, "", timezone.now()
        row.save(update_fields=["status", "error", "attempts", "next_attempt_at", "finished_at"])
    return pending.count()


def _attempt(row: TargetArchive) -> Exception | None:
    if not row.target.enabled:
        return TransientError(f"{row.target} is disabled")
    active = row.action == ArchiveAction.RESTORE
    record = OutRecord(f"archive:{row.pk}", {**row.payload, "active": active}, row.remote_id)
    try:
        with row.target.open_adapter() as adapter:
            [result] = adapter.write(row.entity, [record])
    except AdapterError as exc:
        return exc
    return result.error


def due_merges(now) -> list[int]:
    """Merges with an archive due: retries whose time came, and new ones whose message was lost."""
    pending = TargetArchive.objects.filter(status=ArchiveStatus.PENDING)
    due = pending.filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created__lt=now - LOST_AFTER))
    return list(due.values_list("merge_id", flat=True).distinct().order_by()[:100])
