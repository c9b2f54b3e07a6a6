"""Reconciliation: which records Junction delivered to a target are gone from it (deleted there).

Compares the target's own list of keys (``Adapter.reconcile_ids``, archived records
included) with the records Junction's deliveries say it holds. Read-only: a missing
record is reported, never re-created behind a person's back (it was deleted there
on purpose, or by mistake: someone decides).

Each comparison is a ``Reconciliation`` row: ``start`` queues one (a person's
"Reconcile now", the API, or ``schedule``, which beat calls hourly and which
starts one per target and entity every ``JUNCTION_RECONCILE_HOURS``), a worker
runs it (``perform``: the target is asked outside any transaction) and stores
the counts and the first missing records. An alert opens while the latest
comparison of a target and entity found records missing (monitoring/alerts.py).
"""

from __future__ import annotations

import hashlib
import heapq
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.adapters.base import Adapter
from integrations.adapters.errors import AdapterError
from integrations.choices import ReconciliationStatus, RunStatus
from integrations.models import Connector, Delivery, RecordOutcome, Run
from integrations.models import Reconciliation as Stored
from integrations.models.reconciliation import MISSING_KEPT

log = logging.getLogger(__name__)
BUSY = (ReconciliationStatus.QUEUED, ReconciliationStatus.RUNNING)
LOST_AFTER = timedelta(minutes=10)  # a queued comparison no worker took: its message was lost


@dataclass
class Reconciliation:
    target: str
    entity: str
    delivered: int = 0  # records Junction's deliveries say the target holds
    present: int = 0  # keys the target lists
    missing_count: int = 0  # delivered but gone
    missing: list[tuple[str, str]] = field(default_factory=list)  # the first MISSING_KEPT (key, subject) of them


class ReconcileError(Exception):
    """Why the target could not be reconciled; the message is meant for a person."""


def reconcile(target: Connector, entity: str) -> Reconciliation:
    """Compare; the deliveries (each with the payload last sent) are read in chunks, not held in
    memory all at once: a target of millions of records is compared in the memory of its keys."""
    result = Reconciliation(str(target), entity)
    deliveries = Delivery.objects.filter(target=target, entity=entity).order_by().values_list("subject", "payload")

    def gone(adapter, keys):
        for subject, payload in deliveries.iterator(chunk_size=2000):
            result.delivered += 1
            key = adapter.key_of(entity, payload)
            if key not in keys:
                result.missing_count += 1
                yield key, subject

    try:
        with target.open_adapter() as adapter:
            keys = adapter.reconcile_ids(entity)  # asked first: no cursor is open during the call
            result.present = len(keys)
            result.missing = heapq.nsmallest(MISSING_KEPT, gone(adapter, keys))
    except NotImplementedError:
        raise ReconcileError(f"The {target.adapter_label} adapter cannot list what {target} holds.") from None
    except AdapterError as exc:
        raise ReconcileError(f"{target}: {exc}") from None
    return result


def supported(target: Connector) -> bool:
    """Whether ``target``'s adapter can list every key it holds."""
    adapter_class = target.adapter_class
    return adapter_class is not None and adapter_class.reconcile_ids is not Adapter.reconcile_ids


def start(target: Connector, entity: str, *, user=None, queue: bool = True) -> Stored:
    """Queue a comparison of ``target`` for ``entity``; ``ReconcileError`` says why it cannot be."""
    if not supported(target):
        raise ReconcileError(f"The {target.adapter_label} adapter cannot list what {target} holds.")
    if not target.enabled:
        raise ReconcileError(f"{target} is disabled.")
    busy = Stored.objects.filter(target=target, entity=entity, status__in=BUSY).first()
    if busy is not None:
        raise ReconcileError(
            f"A reconciliation of {target} for {entity} is already {busy.get_status_display().lower()}."
        )
    stored = Stored.objects.create(target=target, entity=entity, requested_by=user)
    if queue:
        _queue(stored.pk)
    return stored


def _queue(pk: int) -> None:
    from integrations import tasks

    transaction.on_commit(lambda: tasks.reconcile_target.delay(pk))


def perform(pk: int) -> Stored | None:
    """Run a queued comparison; None when another worker has taken it (or it is done)."""
    now = timezone.now()
    if not Stored.objects.filter(pk=pk, status=ReconciliationStatus.QUEUED).update(
        status=ReconciliationStatus.RUNNING, started_at=now
    ):
        return None
    stored = Stored.objects.select_related("target").get(pk=pk)
    try:
        result = reconcile(stored.target, stored.entity)
    except ReconcileError as exc:
        stored.status, stored.error = ReconciliationStatus.FAILED, str(exc)
    except Exception as exc:  # a bug: fail it visibly rather than leave it running
        log.exception("Reconciliation %s failed", pk)
        stored.status = ReconciliationStatus.FAILED
        stored.error = f"The comparison failed unexpectedly ({type(exc).__name__}): {exc}"
    else:
        stored.status = ReconciliationStatus.DONE
        stored.delivered, stored.present, stored.missing_count = result.delivered, result.present, result.missing_count
        stored.missing = [{"key": key, "subject": subject} for key, subject in result.missing]
    stored.finished_at = timezone.now()
    stored.save()
    return stored


def why_not_acceptable(stored: Stored) -> str | None:
    """Why ``stored``'s deletions cannot be accepted (for a person), or None when they can."""
    return _why_not_open(stored, "accept", "accept the deletions it found")


def why_not_resendable(stored: Stored) -> str | None:
    """Why the records ``stored`` found gone cannot be sent again (for a person), or None when they can."""
    return _why_not_open(stored, "send again", "send the records it found again")


def _why_not_open(stored: Stored, verb: str, instead: str) -> str | None:
    """The records a reconciliation found gone are settled once, by its latest completed one:
    accepted as deleted, or sent again."""
    if stored.status != ReconciliationStatus.DONE or not stored.missing_count:
        return f"This reconciliation found no deleted records to {verb}."
    if stored.accepted_at:
        return f"{stored.accepted_by or 'Someone'} already accepted these deletions."
    if stored.resent_at:
        return f"{stored.resent_by or 'Someone'} already had these records sent again."
    later = Stored.objects.filter(target_id=stored.target_id, entity=stored.entity, pk__gt=stored.pk)
    if later.filter(status=ReconciliationStatus.DONE).exists():
        return f"A later reconciliation of this target exists: {instead} instead."
    return None


def accept_deletions(stored: Stored, user=None) -> int:
    """Accept what ``stored`` found deleted: Junction forgets it delivered those records (their
    ``Delivery`` rows), so later reconciliations stop reporting them and references to them wait
    again instead of pointing at a record the target no longer has. A record that changes at the
    source later is sent, and created at the target, again. Returns how many were forgotten.

    Only the latest completed reconciliation of its target and entity can be accepted, once. When it
    found more than it lists, a new reconciliation is queued to find the rest.
    """
    refusal = why_not_acceptable(stored)
    if refusal:
        raise ReconcileError(refusal)
    later = Stored.objects.filter(target_id=stored.target_id, entity=stored.entity, pk__gt=stored.pk)
    with transaction.atomic():
        _settle(stored, accepted_at=timezone.now(), accepted_by=user)
        forgotten, _ = _listed_deliveries(stored).delete()
        if stored.missing_count > len(stored.missing) and not later.filter(status__in=BUSY).exists():
            start(stored.target, stored.entity, user=user)
    stored.refresh_from_db()
    return forgotten


@dataclass
class Resent:
    """What ``resend`` did: the runs delivering the records again, and why the others could not go."""

    runs: list[Run] = field(default_factory=list)
    sent: int = 0
    left: dict[str, int] = field(default_factory=dict)  # reason (for a person) -> records


def resend(stored: Stored, user=None) -> Resent:
    """Send the records ``stored`` found gone to its target again, as they were last sent.

    Each goes out as a new outcome row (its own idempotency key, so the target creates it
    afresh) in a run of the flow that last delivered it (trigger "restore", one per flow,
    ``Run.reconciliation``), through the same outbox, retries and dead-letter queue as any
    record. Its ``Delivery`` is forgotten first: the target's old id is gone with the record,
    and the delivery stores the new one. A record Junction cannot send again (its flow was
    deleted, moved out of pilot and live, or no longer delivers to this target; its last outcome
    was purged; its golden record was merged away since) is counted in ``left`` with the reason
    and forgotten too, as accepting would: its flow sends it again when it changes at the source.

    Settles the reconciliation, once, as ``accept_deletions`` does; records it found but did not
    list are left to a new reconciliation, queued here.
    """
    from integrations import tasks

    refusal = why_not_resendable(stored)
    if refusal:
        raise ReconcileError(refusal)
    target, result = stored.target, Resent()
    later = Stored.objects.filter(target_id=stored.target_id, entity=stored.entity, pk__gt=stored.pk)
    with transaction.atomic():
        _settle(stored, resent_at=timezone.now(), resent_by=user)
        deliveries = list(_listed_deliveries(stored).select_for_update())
        last = RecordOutcome.objects.filter(
            target=target, idempotency_key__in=[d.last_key for d in deliveries], dry_run=False
        ).select_related("flow")
        last = {row.idempotency_key: row for row in last}
        groups: dict[int, list[tuple[Delivery, RecordOutcome]]] = {}
        flows, targets_of = {}, {}
        merged = _merged_away([d.subject for d in deliveries])
        for delivery in deliveries:
            row = last.get(delivery.last_key)
            if row is not None and row.flow_id not in targets_of:
                targets_of[row.flow_id] = set(row.flow.targets.values_list("pk", flat=True))
            if delivery.subject in merged:  # the survivor is what the target should hold now
                reason = "its golden record was merged into another since"
            else:
                reason = _why_not_sendable(row, target, targets_of)
            if reason:
                result.left[reason] = result.left.get(reason, 0) + 1
                continue
            flows[row.flow_id] = row.flow
            groups.setdefault(row.flow_id, []).append((delivery, row))
        Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).delete()
        for flow_id, pairs in groups.items():
            result.runs.append(_restore_run(stored, flows[flow_id], pairs, user))
            result.sent += len(pairs)
        if stored.missing_count > len(stored.missing) and not later.filter(status__in=BUSY).exists():
            start(target, stored.entity, user=user)
        for run in result.runs:
            transaction.on_commit(lambda pk=run.pk: tasks.load_target.delay(pk, target.pk))
    stored.refresh_from_db()
    return result


def _merged_away(subjects: list[str]) -> set[str]:
    from masterdata.models import GoldenRecord

    ids = [s.removeprefix("golden:") for s in subjects if s.startswith("golden:")]
    merged = GoldenRecord.objects.filter(pk__in=ids, merged_into__isnull=False).values_list("pk", flat=True)
    return {f"golden:{pk}" for pk in merged}


def _why_not_sendable(row: RecordOutcome | None, target: Connector, targets_of: dict[int, set[int]]) -> str | None:
    if row is None:
        return "what was last sent is no longer kept"
    if not row.flow.writes_to_targets:
        return f"its flow “{row.flow}” is in {row.flow.get_stage_display()}, not pilot or live"
    if target.pk not in targets_of[row.flow_id]:
        return f"its flow “{row.flow}” no longer delivers to {target}"
    return None


def _restore_run(stored: Stored, flow, pairs: list[tuple[Delivery, RecordOutcome]], user) -> Run:
    now = timezone.now()
    run = Run.objects.create(
        flow=flow,
        stage=flow.stage,
        trigger="restore",
        requested_by=user,
        reconciliation=stored,
        read=len(pairs),
        extracted=True,
        status=RunStatus.DELIVERING,
        started_at=now,
    )
    RecordOutcome.objects.bulk_create(
        RecordOutcome(
            run=run,
            flow=flow,
            target=stored.target,
            external_id=row.external_id,
            idempotency_key=restore_key(stored, row.idempotency_key),
            subject=delivery.subject,
            payload=row.payload,
            payload_hash=row.payload_hash,
            mapped=delivery.payload,  # what the target last had, unchanged
        )
        for delivery, row in pairs
    )
    return run


def restore_key(stored: Stored, key: str) -> str:
    """The idempotency key of a record sent again: a new one (the target holds nothing under the
    old one any more), the same for every attempt of this reconciliation's restore."""
    return hashlib.sha256(f"restore:{stored.pk}:{key}".encode()).hexdigest()


def _settle(stored: Stored, **decision) -> None:
    unsettled = Stored.objects.filter(pk=stored.pk, accepted_at__isnull=True, resent_at__isnull=True)
    if not unsettled.update(**decision):
        raise ReconcileError("Someone decided about these records a moment ago.")


def _listed_deliveries(stored: Stored):
    subjects = [gone["subject"] for gone in stored.missing]
    return Delivery.objects.filter(target_id=stored.target_id, entity=stored.entity, subject__in=subjects)


def schedule(now: datetime | None = None) -> int:
    """Tidy comparisons whose message or worker was lost, then start those that are due; how many started."""
    now = now or timezone.now()
    for pk in Stored.objects.filter(status=ReconciliationStatus.QUEUED, queued_at__lt=now - LOST_AFTER).values_list(
        "pk", flat=True
    ):
        _queue(pk)
    gave_up = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT) - LOST_AFTER
    Stored.objects.filter(status=ReconciliationStatus.RUNNING, started_at__lt=gave_up).update(
        status=ReconciliationStatus.FAILED,
        error="The worker stopped before it finished; the next one is started on schedule.",
        finished_at=now,
    )
    hours = settings.JUNCTION_RECONCILE_HOURS
    if hours <= 0:
        return 0
    started = 0
    due = now - timedelta(hours=hours)
    targets = {c.pk: c for c in Connector.objects.filter(enabled=True) if supported(c)}
    pairs = Delivery.objects.filter(target__in=list(targets)).values_list("target", "entity").distinct().order_by()
    for target_id, entity in pairs:
        latest = Stored.objects.filter(target_id=target_id, entity=entity).order_by("-pk").first()
        if latest is not None and (latest.status in BUSY or latest.queued_at > due):
            continue
        try:
            start(targets[target_id], entity)
        except ReconcileError:  # a person started one a moment ago
            continue
        started += 1
    return started
