"""The sweeper: the periodic task that makes the database, not the broker, the source of truth.

Every few seconds it queues again whatever committed work has no live message:
due retries, rows whose worker died (expired lease), staged rows and runs whose
message was lost, pushed events nobody picked up, merges whose changes at the
targets are due; it starts scheduled flows and probes targets whose circuit is open.
Work whose message is merely waiting in a busy queue is left alone: queueing it
again would only lengthen that queue.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from integrations.choices import CircuitState, OutcomeStatus, RunStatus, Stage, Trigger
from integrations.models import Connector, Flow, InboundEvent, RecordOutcome, Run

from . import actions, merges, pipeline

log = logging.getLogger(__name__)

# Work whose message has not been taken this long after it was sent counts as lost (or workers are
# busy); shorter, and a backlogged broker would get a second message for work still queued.
QUEUED_GRACE = timedelta(seconds=30)


def sweep() -> dict[str, int]:
    from integrations import tasks

    now = timezone.now()
    found = {"deliveries": 0, "extractions": 0, "finished": 0, "scheduled": 0, "inbound": 0, "probes": 0, "merges": 0}
    found["rule_applications"] = 0

    due = (
        RecordOutcome.objects.filter(status__in=[OutcomeStatus.PENDING, OutcomeStatus.RETRYING], target__isnull=False)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(without_message(now))
        .filter(target__circuit=CircuitState.CLOSED, target__enabled=True)
        .filter(flow__stage__in=[Stage.PILOT, Stage.LIVE])  # elsewhere staged rows wait
        .values_list("run_id", "target_id")
        .order_by()  # the model's ordering by id would make each row distinct: a message per row, not per pair
        .distinct()[:500]
    )
    for run_id, target_id in due:
        tasks.load_target.delay(run_id, target_id)
        found["deliveries"] += 1

    lost = Run.objects.filter(extracted=False).filter(
        Q(status=RunStatus.QUEUED, queued_at__lt=now - QUEUED_GRACE)
        | Q(status=RunStatus.EXTRACTING, lease_until__lt=now)
    )
    for run_id in lost.values_list("pk", flat=True)[:100]:
        tasks.extract_run.delay(run_id)
        found["extractions"] += 1

    for run_id in Run.objects.filter(extracted=True, finished_at__isnull=True).values_list("pk", flat=True)[:500]:
        found["finished"] += pipeline.finish_if_done(run_id)

    for flow in Flow.objects.filter(trigger=Trigger.SCHEDULE, stage__in=[Stage.TEST, Stage.PILOT, Stage.LIVE]):
        minutes = flow.schedule_minutes or 60
        if flow.last_scheduled_at and flow.last_scheduled_at > now - timedelta(minutes=minutes):
            continue
        # The conditional update makes two sweepers racing start one run, not two.
        if Flow.objects.filter(pk=flow.pk, last_scheduled_at=flow.last_scheduled_at).update(last_scheduled_at=now):
            try:
                actions.start_run(flow, trigger=Trigger.SCHEDULE)
            except actions.ActionError as exc:
                log.warning("Scheduled run of %s not started: %s", flow, exc)
                continue
            found["scheduled"] += 1

    waiting = InboundEvent.objects.filter(run__isnull=True).values_list("connector_id", flat=True).distinct()
    for connector_id in waiting:
        tasks.process_inbound.delay(connector_id)
        found["inbound"] += 1

    for merge_id in merges.due_merges(now):
        tasks.merge_at_targets.delay(merge_id)
        found["merges"] += 1
    for application_id in merges.due_applications(now):
        tasks.rules_at_targets.delay(application_id)
        found["rule_applications"] += 1

    for connector in Connector.objects.filter(circuit=CircuitState.OPEN, circuit_retry_at__lte=now):
        found["probes"] += probe(connector)
    return found


def without_message(now) -> Q:
    """Due outcome rows whose load message is probably lost, or is this sweep's to send.

    A staged row's message was sent when it was staged (``pipeline.start_loading``), its
    ``updated_at``. A retry's message is the sweeper's to send once ``next_attempt_at`` comes,
    and so is that of a row whose worker died, once its lease runs out: nothing else wakes
    them, so the first sweep after that moment queues them (sweeps run every
    ``JUNCTION_SWEEP_SECONDS``). After that, and for staged rows from the start, a row counts
    as without a message only once ``QUEUED_GRACE`` has passed: until then its message is
    more likely waiting in a busy queue than lost, and another would only join it there.
    """
    lost = now - QUEUED_GRACE
    last_sweep = now - timedelta(seconds=settings.JUNCTION_SWEEP_SECONDS)
    free = Q(lease_until__isnull=True)
    expired = Q(lease_until__lt=now) & (Q(lease_until__gt=last_sweep) | Q(lease_until__lt=lost))
    retry = free & Q(next_attempt_at__lte=now) & (Q(next_attempt_at__gt=last_sweep) | Q(next_attempt_at__lt=lost))
    staged = free & Q(next_attempt_at__isnull=True, updated_at__lt=lost)
    return expired | retry | staged


def probe(connector: Connector) -> bool:
    """Close an open circuit when the target answers "Test connection" again; else wait longer."""
    checks = actions.test_connection(connector)
    if all(check.ok for check in checks):
        Connector.objects.filter(pk=connector.pk).update(
            circuit=CircuitState.CLOSED, consecutive_failures=0, circuit_retry_at=None, last_error=""
        )
        log.info("Circuit closed for %s: the probe succeeded", connector)
        return True
    failed = next(check for check in checks if not check.ok)
    Connector.objects.filter(pk=connector.pk).update(
        circuit_retry_at=timezone.now() + pipeline.circuit_cooldown(), last_error=f"{failed.name}: {failed.detail}"
    )
    return False
