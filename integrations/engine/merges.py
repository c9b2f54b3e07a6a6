"""A merge reaches the targets: the merged-away record archived, the survivor updated.

When a steward merges golden record B into A, the targets still hold what
Junction delivered before: the ERP would keep two parties for one customer,
and A's party would lack the values the merge gave A. ``plan`` (a receiver of
``golden_merged``, inside the merge's transaction) writes one ``TargetChange``
row per change due:

- **archive** B at every target holding it (a ``Delivery`` of subject
  ``golden:<B>``) whose adapter can archive the entity (``Adapter.archives``:
  Tryton's parties today): B's last delivered record written again with
  ``"active": false``;
- **update** A at every target holding it, when A's values mapped through the
  flow that last delivered it (``Delivery.flow``, a pilot or live one) differ
  from what that target last got.

Undoing the merge (``golden_unmerged``) **restores** what was archived
(``"active": true``) and updates A again with its values from before.

After the commit a worker writes them (``perform``), outside any transaction.
A target that is away is tried again with growing pauses (the sweeper queues
the merge again when a row is due, or when its message was lost); a record the
target refuses, or a mapping that fails, is kept as failed with the reason.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.adapters.base import OutRecord
from integrations.adapters.errors import AdapterError, TransientError
from integrations.choices import ChangeAction, ChangeStatus, Stage
from integrations.models import Connector, Delivery, TargetChange

from . import mapping
from .pipeline import golden_values, resolver

log = logging.getLogger(__name__)
ATTEMPTS = 48  # with pauses growing to 10 minutes: about 8 hours of a target being away
LOST_AFTER = timedelta(seconds=30)  # a new change no worker took by then lost its message
DELIVERING = (Stage.PILOT, Stage.LIVE)


def plan(merge, *, undone: bool = False) -> list[TargetChange]:
    """The changes ``merge`` (or undoing it) calls for at the targets; queued for a worker after the commit."""
    rows = _restores(merge) if undone else _archives(merge)
    rows += _updates(merge)
    created = TargetChange.objects.bulk_create(rows)
    if created:
        transaction.on_commit(lambda: _queue(merge.pk))
    return created


def _held(entity: str, golden_id: int):
    # The second filter is the predicate of the partial index delivery_golden.
    subject = f"golden:{golden_id}"
    return Delivery.objects.filter(entity=entity, subject=subject).filter(subject__startswith="golden:")


def _archives(merge) -> list[TargetChange]:
    held = _held(merge.absorbed.entity, merge.absorbed_id).select_related("target")
    return [
        _change(merge, ChangeAction.ARCHIVE, delivery, delivery.payload)
        for delivery in held
        if _can_archive(delivery.target, delivery.entity)
    ]


def _restores(merge) -> list[TargetChange]:
    done = merge.target_changes.filter(action=ChangeAction.ARCHIVE, status=ChangeStatus.DONE)
    return [
        TargetChange(
            merge=merge,
            action=ChangeAction.RESTORE,
            target_id=row.target_id,
            entity=row.entity,
            subject=row.subject,
            remote_id=row.remote_id,
            payload=row.payload,
        )
        for row in done
    ]


def _updates(merge) -> list[TargetChange]:
    """The survivor's values as each target that holds it would get them now, where they changed."""
    survivor = merge.survivor
    survivor.refresh_from_db(fields=["values"])
    held = _held(survivor.entity, survivor.pk).select_related("target", "flow__source__system")
    rows = []
    for delivery in held:
        flow = delivery.flow
        if flow is None or flow.stage not in DELIVERING:
            continue  # delivered before Junction kept the flow, or the flow is no longer delivering
        values = golden_values(survivor, delivery.external_id)
        try:
            mapped = mapping.apply(flow.mapping, values, resolve=resolver(flow.source.system, delivery.target))
        except mapping.MappingError as exc:  # an unresolved reference included: say so, write nothing
            row = _change(merge, ChangeAction.UPDATE, delivery, {})
            row.status, row.error, row.finished_at = ChangeStatus.FAILED, f"Mapping: {exc}", timezone.now()
            rows.append(row)
            continue
        if mapped != delivery.payload:
            rows.append(_change(merge, ChangeAction.UPDATE, delivery, mapped))
    return rows


def _change(merge, action: str, delivery: Delivery, payload: dict) -> TargetChange:
    return TargetChange(
        merge=merge,
        action=action,
        target=delivery.target,
        entity=delivery.entity,
        subject=delivery.subject,
        remote_id=delivery.remote_id,
        payload=payload,
    )


def _can_archive(target: Connector, entity: str) -> bool:
    try:
        adapter_class = target.adapter_class
    except LookupError:  # an adapter no longer installed
        return False
    return adapter_class is not None and entity in adapter_class.archives


def _queue(merge_id: int) -> None:
    from integrations import tasks

    tasks.merge_at_targets.delay(merge_id)


def perform(merge_id: int) -> int:
    """Write the due changes of a merge, one target at a time; how many are still pending.

    A target that cannot be reached (or is disabled) is tried again later with growing
    pauses, up to ``ATTEMPTS``; a record the target refuses fails for good, with its
    message for a person.
    """
    now = timezone.now()
    pending = TargetChange.objects.filter(merge_id=merge_id, status=ChangeStatus.PENDING)
    due = pending.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)).select_related("target")
    for row in due.order_by("pk"):
        row.attempts += 1
        error = _attempt(row)
        if isinstance(error, TransientError) and row.attempts < ATTEMPTS:
            row.error = f"Will try again: {error}"
            row.next_attempt_at = timezone.now() + timedelta(seconds=min(600, 15 * 2 ** (row.attempts - 1)))
        elif error is not None:
            row.status, row.error, row.finished_at = ChangeStatus.FAILED, str(error), timezone.now()
            log.warning("%s failed: %s", row, error)
        else:
            row.status, row.error, row.finished_at = ChangeStatus.DONE, "", timezone.now()
            if row.action == ChangeAction.UPDATE:  # what the target holds now: dry runs diff against it
                _held(row.entity, row.subject.removeprefix("golden:")).filter(target=row.target).update(
                    payload=row.payload
                )
        row.save(update_fields=["status", "error", "attempts", "next_attempt_at", "finished_at"])
    return pending.count()


def _attempt(row: TargetChange) -> Exception | None:
    if not row.target.enabled:
        return TransientError(f"{row.target} is disabled")
    payload = row.payload
    if row.action != ChangeAction.UPDATE:
        payload = {**payload, "active": row.action == ChangeAction.RESTORE}
    try:
        with row.target.open_adapter() as adapter:
            [result] = adapter.write(row.entity, [OutRecord(f"merge-change:{row.pk}", payload, row.remote_id)])
    except AdapterError as exc:
        return exc
    return result.error


def due_merges(now) -> list[int]:
    """Merges with a change due: retries whose time came, and new ones whose message was lost."""
    pending = TargetChange.objects.filter(status=ChangeStatus.PENDING)
    due = pending.filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created__lt=now - LOST_AFTER))
    return list(due.values_list("merge_id", flat=True).distinct().order_by()[:100])
