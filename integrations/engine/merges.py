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

Applying survivorship rules to stored golden records (``golden_recomputed``,
masterdata/services/apply_rules.py) updates those whose values changed the same
way (``plan_recomputed``): the rows name the ``RuleApplication`` instead of a merge.

After the commit a worker writes them (``perform``), outside any transaction,
each target's rows in batches through one adapter. A worker first leases the
rows it takes (their next attempt moved ``JUNCTION_LEASE_SECONDS`` ahead), so two messages for
the same work never write a row twice. A target that is away is tried again
with growing pauses (the sweeper queues the merge or application again when a
row is due, or when its message was lost); a record the target refuses, or a
mapping that fails, is kept as failed with the reason.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
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
TAKE = 500  # rows one task writes before it queues the rest
WRITE_BATCH = 100  # records per adapter.write()


def plan(merge, *, undone: bool = False) -> list[TargetChange]:
    """The changes ``merge`` (or undoing it) calls for at the targets; queued for a worker after the commit."""
    rows = _restores(merge) if undone else _archives(merge)
    survivor = merge.survivor
    survivor.refresh_from_db(fields=["values"])
    rows += _updates([survivor], merge=merge)
    created = TargetChange.objects.bulk_create(rows)
    if created:
        transaction.on_commit(lambda: _queue(merge_id=merge.pk))
    return created


def plan_recomputed(application, goldens) -> list[TargetChange]:
    """Updates of ``goldens`` (values just changed by applying survivorship rules, ``application``)
    at every target holding them, where their mapped values changed; queued after the commit."""
    created = TargetChange.objects.bulk_create(_updates(goldens, application=application))
    if created:
        transaction.on_commit(lambda: _queue(application_id=application.pk))
    return created


def _held(entity: str, golden_id: int):
    # The second filter is the predicate of the partial index delivery_golden.
    subject = f"golden:{golden_id}"
    return Delivery.objects.filter(entity=entity, subject=subject).filter(subject__startswith="golden:")


def _archives(merge) -> list[TargetChange]:
    held = _held(merge.absorbed.entity, merge.absorbed_id).select_related("target")
    return [
        _change(ChangeAction.ARCHIVE, delivery, delivery.payload, merge=merge)
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


def _updates(goldens, **reason) -> list[TargetChange]:
    """Each golden record's values as each target that holds it would get them now, where they
    changed; ``reason``: ``merge=`` or ``application=``. One query for all their deliveries."""
    if not goldens:
        return []
    by_subject = {f"golden:{golden.pk}": golden for golden in goldens}
    held = Delivery.objects.filter(entity=goldens[0].entity, subject__in=by_subject)
    held = held.filter(subject__startswith="golden:").select_related("target", "flow__source__system")
    rows = []
    for delivery in held.order_by("pk"):
        flow = delivery.flow
        if flow is None or flow.stage not in DELIVERING:
            continue  # delivered before Junction kept the flow, or the flow is no longer delivering
        values = golden_values(by_subject[delivery.subject], delivery.external_id)
        try:
            mapped = mapping.apply(flow.mapping, values, resolve=resolver(flow.source.system, delivery.target))
        except mapping.MappingError as exc:  # an unresolved reference included: say so, write nothing
            row = _change(ChangeAction.UPDATE, delivery, {}, **reason)
            row.status, row.error, row.finished_at = ChangeStatus.FAILED, f"Mapping: {exc}", timezone.now()
            rows.append(row)
            continue
        if mapped != delivery.payload:
            rows.append(_change(ChangeAction.UPDATE, delivery, mapped, **reason))
    return rows


def _change(action: str, delivery: Delivery, payload: dict, **reason) -> TargetChange:
    return TargetChange(
        **reason,
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


def _queue(*, merge_id: int | None = None, application_id: int | None = None) -> None:
    from integrations import tasks

    if merge_id is not None:
        tasks.merge_at_targets.delay(merge_id)
    else:
        tasks.rules_at_targets.delay(application_id)


def perform(merge_id: int) -> int:
    """Write the due changes of a merge; how many are still pending (see ``perform_rows``)."""
    return perform_rows(TargetChange.objects.filter(merge_id=merge_id), more=lambda: _queue(merge_id=merge_id))


def perform_application(application_id: int) -> int:
    """Write the due updates of an application of survivorship rules; how many are still pending."""
    rows = TargetChange.objects.filter(application_id=application_id)
    return perform_rows(rows, more=lambda: _queue(application_id=application_id))


def perform_rows(rows, *, more) -> int:
    """Write the due changes among ``rows``, a target at a time; how many are still pending.

    A target that cannot be reached (or is disabled) is tried again later with growing
    pauses, up to ``ATTEMPTS``; a record the target refuses fails for good, with its
    message for a person. At most ``TAKE`` rows per call; ``more()`` queues the rest.
    """
    pending = rows.filter(status=ChangeStatus.PENDING)
    taken = _lease(pending)
    by_target: dict[tuple, list[TargetChange]] = {}
    for row in taken:
        by_target.setdefault((row.target_id, row.entity), []).append(row)
    for target_rows in by_target.values():
        for start in range(0, len(target_rows), WRITE_BATCH):
            batch = target_rows[start : start + WRITE_BATCH]
            for row, error in zip(batch, _attempt(batch), strict=True):
                _settle(row, error)
    if len(taken) == TAKE:
        more()
    return pending.count()


def _lease(pending) -> list[TargetChange]:
    """Take up to ``TAKE`` due rows: their next attempt moves ``JUNCTION_LEASE_SECONDS`` ahead, so another worker
    (a second message for the same work) skips them; a worker that dies frees them then."""
    now = timezone.now()
    due = pending.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    with transaction.atomic():
        ids = list(due.select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True)[:TAKE])
        lease = now + timedelta(seconds=settings.JUNCTION_LEASE_SECONDS)
        TargetChange.objects.filter(pk__in=ids).update(next_attempt_at=lease)
    return list(TargetChange.objects.filter(pk__in=ids).select_related("target").order_by("pk"))


def _settle(row: TargetChange, error: Exception | None) -> None:
    row.attempts += 1
    row.next_attempt_at = None
    if isinstance(error, TransientError) and row.attempts < ATTEMPTS:
        row.error = f"Will try again: {error}"
        row.next_attempt_at = timezone.now() + timedelta(seconds=min(600, 15 * 2 ** (row.attempts - 1)))
    elif error is not None:
        row.status, row.error, row.finished_at = ChangeStatus.FAILED, str(error), timezone.now()
        log.warning("%s failed: %s", row, error)
    else:
        row.status, row.error, row.finished_at = ChangeStatus.DONE, "", timezone.now()
        if row.action == ChangeAction.UPDATE:  # what the target holds now: dry runs diff against it
            _held(row.entity, row.subject.removeprefix("golden:")).filter(target=row.target).update(payload=row.payload)
    row.save(update_fields=["status", "error", "attempts", "next_attempt_at", "finished_at"])


def _attempt(rows: list[TargetChange]) -> list[Exception | None]:
    """Write ``rows`` (one target's, one entity's) in one ``adapter.write``: an error or None for each."""
    target = rows[0].target
    if not target.enabled:
        return [TransientError(f"{target} is disabled")] * len(rows)
    records = []
    for row in rows:
        payload = row.payload
        if row.action != ChangeAction.UPDATE:
            payload = {**payload, "active": row.action == ChangeAction.RESTORE}
        records.append(OutRecord(f"merge-change:{row.pk}", payload, row.remote_id))
    try:
        with target.open_adapter() as adapter:
            results = {result.key: result for result in adapter.write(rows[0].entity, records)}
    except AdapterError as exc:
        return [exc] * len(rows)
    # Matched by key: an adapter may answer in another order (creates before updates, say).
    missing = TransientError("The adapter returned no result for this record.")
    return [results[record.key].error if record.key in results else missing for record in records]


def _due(now):
    """Pending changes whose retry time came, and new ones whose message was lost."""
    pending = TargetChange.objects.filter(status=ChangeStatus.PENDING)
    return pending.filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created__lt=now - LOST_AFTER))


def due_merges(now) -> list[int]:
    """Merges with a change due: retries whose time came, and new ones whose message was lost."""
    due = _due(now).filter(merge__isnull=False)
    return list(due.values_list("merge_id", flat=True).distinct().order_by()[:100])


def due_applications(now) -> list[int]:
    """Applications of survivorship rules with an update due, as ``due_merges``."""
    due = _due(now).filter(application__isnull=False)
    return list(due.values_list("application_id", flat=True).distinct().order_by()[:100])
