"""Applying the current survivorship rules to the golden records already stored.

Rules are read whenever a golden record is recomputed, so a changed rule alters
nothing stored until this runs. A worker goes through the entity's active golden
records in id order, ``BATCH`` per transaction (under the entity's lock, like
ingest and merge): each is recomputed from its source records exactly as an
ingest would (values a steward pinned at a merge still win), and only those whose
values changed are written, with their audit entries and new blocking keys. Then
``golden_recomputed`` tells integrations, which plans their updates at the
targets holding them, in the same transaction.

The batch's transaction also moves the application's ``position`` and counts, so
a task delivered again (a worker that died) carries on after the last committed
batch; two tasks of one application, if ever, share the work batch by batch.
"""

import copy
import time

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.bulk import bulk_update, log_bulk_update
from audit.bulk_changes import audited_update
from audit.context import acting_as
from masterdata import matching
from masterdata.choices import JobStatus
from masterdata.entities import Entity
from masterdata.models import GoldenRecord, RuleApplication, SourceRecord
from masterdata.signals import golden_recomputed

from .background import stalled_before
from .ingest_writes import GOLDEN_FIELDS, golden_differs, replace_keys
from .locks import lock_entity
from .pair_scores import blocking_keys_many
from .survivorship import load_rules, recompute

BATCH = 500
UNFINISHED = (JobStatus.PENDING, JobStatus.RUNNING)


def active_count(entity: str) -> int:
    return GoldenRecord.objects.filter(entity=entity).active().count()


def current(entity: str) -> RuleApplication | None:
    """The entity's application still waiting or running, if any."""
    return RuleApplication.objects.filter(entity=entity, status__in=UNFINISHED).first()


def start_apply(entity: str, *, user, queue: bool = True) -> tuple[RuleApplication, bool]:
    """Save an application of the rules to ``entity``'s golden records and queue it for a worker
    once committed: ``(application, True)``. One per entity at a time: while one is waiting or
    running, a ValidationError says so; one that stalled is queued again: ``(it, False)``.
    ``queue=False``: the caller runs it itself (``manage.py apply_survivorship``)."""
    if entity not in Entity.values:
        raise ValidationError({"entity": f"Choose one of: {', '.join(Entity.values)}."})
    try:
        with transaction.atomic():
            running = RuleApplication.objects.select_for_update().filter(entity=entity, status__in=UNFINISHED).first()
            if running is not None:
                if not stalled(running):
                    raise ValidationError({"entity": busy_message(running)})
                if queue:
                    _queue_on_commit(running.pk)
                return running, False
            application = RuleApplication.objects.create(entity=entity, total=active_count(entity), requested_by=user)
            if queue:
                _queue_on_commit(application.pk)
            return application, True
    except IntegrityError:  # another request created one between our check and our insert
        raise ValidationError({"entity": busy_message(current(entity))}) from None


def busy_message(application: RuleApplication | None) -> str:
    who = f" by {application.requested_by.get_username()}" if application and application.requested_by else ""
    return f"The rules are already being applied to these records (requested{who}); wait for it to finish."


def stalled(application: RuleApplication, now=None) -> bool:
    """It lost its worker or its message (``background``): asking again queues it again instead of
    refusing, and ``resume_stalled`` does so by itself."""
    last = application.progressed or application.started or application.created
    return last < stalled_before(now or timezone.now())


def resume_stalled(now=None) -> int:
    """Queue again every unfinished application that has not moved for ``STALLED_AFTER``; how many.
    (A second message of a live one would be harmless: batches take the application's row lock.)"""
    from masterdata.tasks import apply_rules

    before = stalled_before(now or timezone.now())
    moved = Coalesce("progressed", "started", "created")
    stalled_ones = RuleApplication.objects.filter(status__in=UNFINISHED).alias(moved=moved).filter(moved__lt=before)
    ids = list(stalled_ones.values_list("pk", flat=True)[:100])
    for application_id in ids:
        apply_rules.delay(application_id)
    return len(ids)


def _queue_on_commit(application_id: int) -> None:
    from masterdata.tasks import apply_rules

    transaction.on_commit(lambda: apply_rules.delay(application_id))


def claim(application_id: int) -> bool:
    """Take the application for this worker; also re-takes one a dead worker left running."""
    return bool(
        RuleApplication.objects.filter(pk=application_id, status__in=UNFINISHED).update(
            status=JobStatus.RUNNING, started=timezone.now(), progressed=timezone.now()
        )
    )


def run(application_id: int, *, slice_seconds: float | None = None) -> bool:
    """Apply the rules batch by batch until done (True), or until ``slice_seconds`` have passed
    (False: the caller queues the rest, so no task outlives its time limit)."""
    application = RuleApplication.objects.select_related("requested_by").get(pk=application_id)
    deadline = time.monotonic() + slice_seconds if slice_seconds else None
    with acting_as(application.requested_by):
        while apply_batch(application_id):
            if deadline is not None and time.monotonic() > deadline:
                return False
        finished = RuleApplication.objects.filter(pk=application_id, status=JobStatus.RUNNING)
        audited_update(finished, status=JobStatus.DONE, finished=timezone.now())
    return True


def fail(application_id: int, error: str) -> None:
    """Stop the application with ``error`` for people to read; the batches done stay done."""
    unfinished = RuleApplication.objects.filter(pk=application_id, status__in=UNFINISHED)
    audited_update(unfinished, status=JobStatus.FAILED, error=error, finished=timezone.now())


@transaction.atomic
def apply_batch(application_id: int) -> bool:
    """Recompute the next ``BATCH`` golden records; False when none was left (or it is no longer running)."""
    application = RuleApplication.objects.select_for_update(of=("self",)).select_related("requested_by")
    application = application.get(pk=application_id)
    if application.status != JobStatus.RUNNING:
        return False
    entity = application.entity
    lock_entity(entity)
    todo = GoldenRecord.objects.filter(entity=entity, pk__gt=application.position).active().order_by("pk")
    goldens = list(todo[:BATCH])
    if not goldens:
        return False
    changed = recompute_all(entity, goldens)
    write(entity, changed, actor=application.requested_by)
    if changed:
        golden_recomputed.send(RuleApplication, application=application, goldens=[after for _, after in changed])
    RuleApplication.objects.filter(pk=application_id).update(  # progress: bookkeeping, not audited
        examined=F("examined") + len(goldens),
        changed=F("changed") + len(changed),
        position=goldens[-1].pk,
        progressed=timezone.now(),
    )
    return True


def recompute_all(entity: str, goldens: list[GoldenRecord]) -> list[tuple[GoldenRecord, GoldenRecord]]:
    """``(before, after)`` for each of ``goldens`` whose values the current rules change (not saved)."""
    rules = load_rules(entity)
    sources: dict[int, list[SourceRecord]] = {golden.pk: [] for golden in goldens}
    for source in SourceRecord.objects.filter(golden__in=goldens):
        sources[source.golden_id].append(source)
    changed = []
    for golden in goldens:
        before = copy.copy(golden)  # recompute() assigns new dicts: this copy keeps the old ones
        recompute(golden, sources[golden.pk], rules)
        if golden_differs(before, golden):
            changed.append((before, golden))
    return changed


def write(entity: str, changed: list[tuple[GoldenRecord, GoldenRecord]], *, actor=None) -> None:
    """Save the changed golden records, their audit entries and their new blocking keys."""
    if not changed:
        return
    now = timezone.now()
    goldens = [after for _, after in changed]
    for golden in goldens:
        golden.updated = now
    bulk_update(goldens, GOLDEN_FIELDS)
    log_bulk_update(changed, fields=GOLDEN_FIELDS, actor=actor)
    values = [golden.values for golden in goldens]
    pks = [golden.pk for golden in goldens]
    keys, ranks = blocking_keys_many(entity, values), matching.sort_positions(entity, values)
    replace_keys(entity, dict(zip(pks, keys, strict=True)), dict(zip(pks, ranks, strict=True)), stored=pks)
