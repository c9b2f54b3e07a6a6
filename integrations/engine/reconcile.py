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

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.adapters.base import Adapter
from integrations.adapters.errors import AdapterError
from integrations.choices import ReconciliationStatus
from integrations.models import Connector, Delivery
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
    missing: list[tuple[str, str]] = field(default_factory=list)  # (key, subject) delivered but gone


class ReconcileError(Exception):
    """Why the target could not be reconciled; the message is meant for a person."""


def reconcile(target: Connector, entity: str) -> Reconciliation:
    result = Reconciliation(str(target), entity)
    deliveries = list(Delivery.objects.filter(target=target, entity=entity).values_list("subject", "payload"))
    try:
        with target.open_adapter() as adapter:
            keys = adapter.reconcile_ids(entity)
            sent = [(adapter.key_of(entity, payload), subject) for subject, payload in deliveries]
    except NotImplementedError:
        raise ReconcileError(f"The {target.adapter_label} adapter cannot list what {target} holds.") from None
    except AdapterError as exc:
        raise ReconcileError(f"{target}: {exc}") from None
    result.delivered, result.present = len(sent), len(keys)
    result.missing = sorted((key, subject) for key, subject in sent if key not in keys)
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
        stored.delivered, stored.present, stored.missing_count = result.delivered, result.present, len(result.missing)
        stored.missing = [{"key": key, "subject": subject} for key, subject in result.missing[:MISSING_KEPT]]
    stored.finished_at = timezone.now()
    stored.save()
    return stored


def why_not_acceptable(stored: Stored) -> str | None:
    """Why ``stored``'s deletions cannot be accepted (for a person), or None when they can."""
    if stored.status != ReconciliationStatus.DONE or not stored.missing_count:
        return "This reconciliation found no deleted records to accept."
    if stored.accepted_at:
        return f"{stored.accepted_by or 'Someone'} already accepted these deletions."
    later = Stored.objects.filter(target_id=stored.target_id, entity=stored.entity, pk__gt=stored.pk)
    if later.filter(status=ReconciliationStatus.DONE).exists():
        return "A later reconciliation of this target exists: accept the deletions it found instead."
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
        if not Stored.objects.filter(pk=stored.pk, accepted_at__isnull=True).update(
            accepted_at=timezone.now(), accepted_by=user
        ):
            raise ReconcileError("Someone accepted these deletions a moment ago.")
        subjects = [gone["subject"] for gone in stored.missing]
        forgotten, _ = Delivery.objects.filter(
            target_id=stored.target_id, entity=stored.entity, subject__in=subjects
        ).delete()
        if stored.missing_count > len(stored.missing) and not later.filter(status__in=BUSY).exists():
            start(stored.target, stored.entity, user=user)
    stored.refresh_from_db()
    return forgotten


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
