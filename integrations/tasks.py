"""Celery tasks for syncs (routed to the ``sync`` queue by config/celery.py).

Tasks carry ids only; the database holds the work (engine/pipeline.py), so
running a task twice, or late, is harmless.
"""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.adapters.errors import PermanentError, TransientError
from integrations.choices import Stage, Trigger
from integrations.engine import actions, merges, pipeline, reconcile, sweeper
from integrations.models import Flow, Run

log = logging.getLogger(__name__)

EXTRACT_RETRIES = 8


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=EXTRACT_RETRIES)
def extract_run(self, run_id: int) -> None:
    run = pipeline.take_extraction(run_id)
    if run is None:
        return
    try:
        finished = pipeline.extract(run, slice_seconds=settings.JUNCTION_EXTRACT_SLICE_SECONDS)
    except TransientError as exc:
        # The source is down: keep what was staged, resume from the run's watermark later.
        if self.request.retries >= EXTRACT_RETRIES:
            pipeline.fail_run(run_id, f"Reading the source kept failing: {exc}")
            return
        countdown = min(600, 15 * 2**self.request.retries)
        # The lease runs out when the retry is due: if its message is lost, the sweeper resumes the run.
        Run.objects.filter(pk=run_id).update(
            lease_until=timezone.now() + timedelta(seconds=countdown),
            error=f"Reading the source failed, will retry: {exc}",
        )
        raise self.retry(countdown=countdown) from exc
    except PermanentError as exc:
        pipeline.fail_run(run_id, f"Reading the source failed: {exc}")
        return
    except Exception as exc:  # a bug or the time limit: fail the run visibly instead of looping on it
        log.exception("Extraction of run %s failed", run_id)
        pipeline.fail_run(run_id, f"Reading the source failed unexpectedly ({type(exc).__name__}): {exc}")
        return
    if not finished:  # a long read goes on in the next slice, from the run's watermark
        extract_run.delay(run_id)
        return
    deliver_run(run_id)


@shared_task(acks_late=True, ignore_result=True)
def deliver_run(run_id: int) -> None:
    """Queue one delivery task per target, so targets load in parallel on several workers."""
    run = Run.objects.select_related("flow").get(pk=run_id)
    for target_id in run.flow.targets.values_list("pk", flat=True):
        load_target.delay(run_id, target_id)
    pipeline.finish_if_done(run_id)


@shared_task(acks_late=True, ignore_result=True)
def load_target(run_id: int, target_id: int) -> None:
    pipeline.load(run_id, target_id)


@shared_task(acks_late=True, ignore_result=True)
def process_inbound(connector_id: int) -> None:
    """Start a run for pushed events, unless one is already gathering them.

    Only pilot and live runs take events; a flow in test is dry-run when someone asks
    ("Dry run now"), since a dry run leaves the events waiting and would start again at once.
    """
    flow = Flow.objects.filter(
        source_id=connector_id, trigger=Trigger.PUSH, stage__in=[Stage.PILOT, Stage.LIVE]
    ).first()
    if flow is None:
        return  # events wait, stored, until a flow takes them
    with transaction.atomic():
        Flow.objects.select_for_update().filter(pk=flow.pk).first()  # one starter at a time per flow
        if flow.runs.filter(extracted=False, finished_at__isnull=True).exists():
            return  # the open run's extraction will claim these events too
        if pipeline.waiting_events(connector_id).values_list("pk", flat=True).first() is None:
            return  # a run that has just finished took them: no empty run to clutter the history
        actions.start_run(flow, trigger=Trigger.PUSH)


@shared_task(ignore_result=True, expires=25)
def sweep() -> None:
    found = sweeper.sweep()
    if any(found.values()):
        log.info("Sweeper: %s", found)


@shared_task(acks_late=True, ignore_result=True)
def reconcile_target(reconciliation_id: int) -> None:
    """Compare a target's keys with Junction's deliveries (engine/reconcile.py); asks the target only."""
    reconcile.perform(reconciliation_id)


@shared_task(ignore_result=True, expires=3000)
def schedule_reconciliations() -> None:
    """Sent by beat hourly: start the reconciliations that are due, re-queue lost ones."""
    started = reconcile.schedule()
    if started:
        log.info("Reconciliations started: %d", started)


@shared_task(acks_late=True, ignore_result=True)
def merge_at_targets(merge_id: int) -> None:
    """Write what a merge changes at the targets holding its golden records (engine/merges.py)."""
    merges.perform(merge_id)


@shared_task(acks_late=True, ignore_result=True)
def rules_at_targets(application_id: int) -> None:
    """Update the golden records that applied survivorship rules changed, at the targets holding them."""
    merges.perform_application(application_id)
