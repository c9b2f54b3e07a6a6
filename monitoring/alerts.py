"""Alerts: conditions someone should look at, opened when they start and resolved when they end.

``evaluate`` runs every ``JUNCTION_ALERT_EVALUATE_SECONDS`` (a beat task). It
computes the conditions that hold now, each with a *key* naming it (e.g.
``circuit_open:connector:7``), and reconciles them with the stored alerts in
one transaction: a new key opens an alert, a key seen again refreshes its
alert, and an unresolved alert whose key is gone is resolved. So alerts are
state, not events: evaluating twice opens nothing twice (one unresolved alert
per key is also a database constraint), and nobody has to close an alert
whose cause went away. Opening and resolving are announced once each, after
the commit, through ``monitoring.notify``.

What is watched (docs/operations.md, "Alerts"): a pilot or live flow whose
last finished run failed or had problems, a run unfinished for too long, a
scheduled flow that stopped running, records waiting in the dead-letter
queue, a target paused by its circuit breaker, records a reconciliation found
deleted at a target, and a worker gone silent.
A total outage (no worker, no scheduler) stops this evaluation too; that is
what ``/healthz`` is for.

People see the alerts about the flows and connectors they may view (and,
with ``view_heartbeat``, those about workers), through ``visible_alerts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Count, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone
from django.utils.timesince import timesince

from audit.events import record_event
from integrations import services as integrations
from integrations.choices import CircuitState, ReconciliationStatus, RunStatus, Stage, Trigger
from integrations.models import Connector, Flow, Reconciliation, RecordOutcome, Run

from .choices import AlertKind, Component, Severity
from .models import Alert, Heartbeat

DELIVERING_STAGES = (Stage.PILOT, Stage.LIVE)  # flows whose runs write to targets
FINISHED = (RunStatus.SUCCEEDED, RunStatus.PARTIAL, RunStatus.FAILED)
SILENT_FOR = timedelta(hours=24)  # heartbeats older than this are pruned: the worker was scaled down
EVALUATION_LOCK = 0x4A414C  # "JAL": this module's advisory lock key


@dataclass(frozen=True)
class Condition:
    """A condition that holds now; ``key`` identifies it across evaluations."""

    key: str
    kind: str
    severity: str
    title: str
    detail: str = ""
    flow_id: int | None = None
    connector_id: int | None = None


@dataclass
class Evaluation:
    opened: list[Alert]
    resolved: list[Alert]
    still_open: int


# --- Evaluation ------------------------------------------------------------------------------


def evaluate(now: datetime | None = None) -> Evaluation:
    """Open, refresh and resolve alerts to match the conditions that hold ``now``."""
    now = now or timezone.now()
    conditions = {c.key: c for c in current_conditions(now)}
    with transaction.atomic():
        _one_evaluation_at_a_time()
        unresolved = {a.key: a for a in Alert.objects.unresolved().select_for_update()}
        opened = Alert.objects.bulk_create(
            Alert(
                key=c.key,
                kind=c.kind,
                severity=c.severity,
                title=c.title[:300],
                detail=c.detail,
                flow_id=c.flow_id,
                connector_id=c.connector_id,
                opened_at=now,
                last_seen_at=now,
            )
            for key, c in conditions.items()
            if key not in unresolved
        )
        resolved = [alert for key, alert in unresolved.items() if key not in conditions]
        held = [alert for key, alert in unresolved.items() if key in conditions]
        for alert in resolved:
            alert.resolved_at = now
        Alert.objects.filter(pk__in=[a.pk for a in resolved]).update(resolved_at=now)
        Alert.objects.filter(pk__in=[a.pk for a in held]).update(last_seen_at=now)
        # An alert that still holds follows the figures in its wording (how many records wait, say).
        reworded = [a for a in held if _reword(a, conditions[a.key])]
        Alert.objects.bulk_update(reworded, ["title", "detail", "severity"])
        if opened or resolved:
            from . import notify

            transaction.on_commit(lambda: notify.announce(opened, resolved))
    return Evaluation(opened, resolved, len(conditions))


def _reword(alert: Alert, condition: Condition) -> bool:
    wording = (condition.title[:300], condition.detail, condition.severity)
    if (alert.title, alert.detail, alert.severity) == wording:
        return False
    alert.title, alert.detail, alert.severity = wording
    return True


def _one_evaluation_at_a_time() -> None:
    """Two overlapping evaluations would both open a new condition's alert (SQLite: writers already wait)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [EVALUATION_LOCK])


def current_conditions(now: datetime) -> list[Condition]:
    return [
        *_last_runs(),
        *_stuck_runs(now),
        *_late_flows(now),
        *_dead_letters(),
        *_open_circuits(),
        *_records_gone(),
        *_failed_reconciliations(),
        *_silent_workers(now),
    ]


def _last_runs() -> list[Condition]:
    """A pilot or live flow whose last finished run failed (critical) or had problems (warning)."""
    last = Run.objects.filter(flow=OuterRef("pk"), status__in=FINISHED).order_by("-pk").values("pk")[:1]
    last_runs = Flow.objects.filter(stage__in=DELIVERING_STAGES).annotate(last_run=Subquery(last))
    wanted = [pk for pk in last_runs.values_list("last_run", flat=True) if pk]  # ids only: most are fine
    conditions = []
    problems = Run.objects.filter(pk__in=wanted, status__in=(RunStatus.FAILED, RunStatus.PARTIAL))
    for run in problems.select_related("flow"):
        flow = run.flow
        if run.status == RunStatus.FAILED:
            conditions.append(
                Condition(
                    f"run_failed:flow:{flow.pk}",
                    AlertKind.RUN_FAILED,
                    Severity.CRITICAL,
                    f"The last run of {flow} failed",
                    f"Run {run.pk}: {run.error or 'no reason recorded'}. "
                    "Fix the cause (the run page has it), then run the flow again.",
                    flow_id=flow.pk,
                )
            )
            continue
        problems = ", ".join(
            f"{n} {label}"
            for n, label in (
                (run.quarantined, "quarantined"),
                (run.failed, "refused by a target"),
                (run.dead_lettered, "dead-lettered"),
            )
            if n
        )
        conditions.append(
            Condition(
                f"run_problems:flow:{flow.pk}",
                AlertKind.RUN_PROBLEMS,
                Severity.WARNING,
                f"The last run of {flow} finished with problems",
                f"Run {run.pk}: {problems or 'some records were not delivered'}. "
                "The run page lists each record's error; fix and replay them from the dead-letter queue.",
                flow_id=flow.pk,
            )
        )
    return conditions


def _stuck_runs(now: datetime) -> list[Condition]:
    minutes = settings.JUNCTION_ALERT_RUN_MINUTES
    stuck = Run.objects.filter(finished_at__isnull=True, queued_at__lt=now - timedelta(minutes=minutes))
    return [
        Condition(
            f"run_stuck:run:{run.pk}",
            AlertKind.RUN_STUCK,
            Severity.WARNING,
            f"Run {run.pk} of {run.flow} has been going for {timesince(run.queued_at, now)}",
            f"Queued at {run.queued_at:%Y-%m-%d %H:%M} UTC and still {run.get_status_display().lower()} "
            f"(alert after {minutes} minutes). Check that workers are running and the targets answer.",
            flow_id=run.flow_id,
        )
        for run in stuck.select_related("flow").order_by("pk")[:200]
    ]


def _late_flows(now: datetime) -> list[Condition]:
    """A scheduled pilot or live flow with no run queued for twice its interval (plus a grace)."""
    grace = timedelta(minutes=settings.JUNCTION_ALERT_LATE_GRACE_MINUTES)
    latest = Run.objects.filter(flow=OuterRef("pk")).order_by("-pk").values("queued_at")[:1]
    flows = Flow.objects.filter(trigger=Trigger.SCHEDULE, stage__in=DELIVERING_STAGES).annotate(
        last_queued=Subquery(latest)
    )
    conditions = []
    for flow in flows.only("name", "schedule_minutes", "updated"):
        every = timedelta(minutes=flow.schedule_minutes or 60)
        since = flow.last_queued or flow.updated  # never ran: count from when it was last changed (promoted)
        if since >= now - 2 * every - grace:
            continue
        conditions.append(
            Condition(
                f"flow_late:flow:{flow.pk}",
                AlertKind.FLOW_LATE,
                Severity.WARNING,
                f"{flow} has not run for {timesince(since, now)}",
                f"It is scheduled every {flow.schedule_minutes} minutes. Check that the scheduler (beat) "
                "is running and that the source connector is enabled; the worker log says why a scheduled "
                "run did not start.",
                flow_id=flow.pk,
            )
        )
    return conditions


def _dead_letters() -> list[Condition]:
    waiting = (
        RecordOutcome.objects.filter(status__in=integrations.WAITING, dry_run=False)
        .values("flow")
        .annotate(n=Count("flow"))  # flow_id: read from the partial index alone
        .order_by()
    )
    counts = {row["flow"]: row["n"] for row in waiting}
    names = dict(Flow.objects.filter(pk__in=counts).values_list("pk", "name"))
    return [
        Condition(
            f"dead_letters:flow:{flow_id}",
            AlertKind.DEAD_LETTERS,
            Severity.WARNING,
            f"{n} record{'s' if n != 1 else ''} of {names[flow_id]} wait{'' if n != 1 else 's'} "
            "in the dead-letter queue",
            "Each shows its error in the dead-letter queue: fix the mapping or the data, then replay or discard them.",
            flow_id=flow_id,
        )
        for flow_id, n in counts.items()
        if flow_id in names
    ]


def _open_circuits() -> list[Condition]:
    return [
        Condition(
            f"circuit_open:connector:{c.pk}",
            AlertKind.CIRCUIT_OPEN,
            Severity.CRITICAL,
            f"Deliveries to {c} are paused: its circuit breaker opened",
            f"Last error: {c.last_error or 'none recorded'}. Junction probes it again "
            + (f"at {c.circuit_retry_at:%H:%M} UTC" if c.circuit_retry_at else "shortly")
            + " and resumes by itself when the probe succeeds; records wait meanwhile.",
            connector_id=c.pk,
        )
        for c in Connector.objects.filter(circuit=CircuitState.OPEN)
    ]


def _records_gone() -> list[Condition]:
    """The latest completed reconciliation of a target and entity found delivered records missing."""
    latest = (
        Reconciliation.objects.filter(status=ReconciliationStatus.DONE)
        .values("target", "entity")
        .annotate(last=Max("pk"))
        .values("last")
    )
    gaps = Reconciliation.objects.filter(
        pk__in=latest, missing_count__gt=0, accepted_at__isnull=True, resent_at__isnull=True
    )
    gaps = gaps.select_related("target")
    return [
        Condition(
            f"records_gone:connector:{r.target_id}:{r.entity}",
            AlertKind.RECORDS_GONE,
            Severity.WARNING,
            f"{r.missing_count} {r.get_entity_display().lower()} record{'s' if r.missing_count != 1 else ''} "
            f"delivered to {r.target} {'are' if r.missing_count != 1 else 'is'} gone from it",
            f"Reconciliation {r.pk} ({r.finished_at:%Y-%m-%d %H:%M} UTC): {r.target} no longer holds "
            f"{r.missing_count} of the {r.delivered} records Junction delivered there; they were deleted "
            "there. Junction does not create them again by itself: the reconciliation lists them. Decide "
            "with the target's owners, then on the reconciliation's page send them again, or accept the "
            "deletions if they stay deleted (a record that changes at the source later is sent again either way).",
            connector_id=r.target_id,
        )
        for r in gaps
    ]


def _failed_reconciliations() -> list[Condition]:
    """The latest reconciliation of a target and entity could not read the target: nothing is
    known about deletions there until one succeeds."""
    finished = (ReconciliationStatus.DONE, ReconciliationStatus.FAILED)
    latest = (
        Reconciliation.objects.filter(status__in=finished)
        .values("target", "entity")
        .annotate(last=Max("pk"))
        .values("last")
    )
    failed = Reconciliation.objects.filter(pk__in=latest, status=ReconciliationStatus.FAILED).select_related("target")
    return [
        Condition(
            f"reconciliation_failed:connector:{r.target_id}:{r.entity}",
            AlertKind.RECONCILIATION_FAILED,
            Severity.WARNING,
            f"{r.target} could not be reconciled ({r.get_entity_display().lower()})",
            f"Reconciliation {r.pk}: {r.error or 'no reason recorded'}. Fix the cause (Test connection on the "
            "connector helps), then reconcile it again; until one succeeds, records deleted there go unseen.",
            connector_id=r.target_id,
        )
        for r in failed
    ]


def _silent_workers(now: datetime) -> list[Condition]:
    """A worker that sent heartbeats today and has stopped. Its peers, still running, report it."""
    stale = now - timedelta(seconds=settings.JUNCTION_HEARTBEAT_STALE_AFTER)
    silent = Heartbeat.objects.filter(component=Component.WORKER, last_seen__lt=stale, last_seen__gte=now - SILENT_FOR)
    return [
        Condition(
            f"worker_silent:{beat.hostname}",
            AlertKind.WORKER_SILENT,
            Severity.CRITICAL,
            f"Worker {beat.hostname} has been silent for {timesince(beat.last_seen, now)}",
            "Its last heartbeat was at "
            f"{beat.last_seen:%Y-%m-%d %H:%M:%S} UTC. Restart it, or ignore this if it was scaled down on "
            "purpose: the alert resolves by itself a day after its last heartbeat.",
        )
        for beat in silent
    ]


# --- Who sees what ---------------------------------------------------------------------------


def visible_alerts(user, action: str = "view") -> QuerySet[Alert]:
    """Alerts about flows and connectors ``user`` may ``action`` (view/change), and with
    ``view_heartbeat`` those about workers; none without the role's permission on alerts."""
    alerts = Alert.objects.restrict(user, action)
    about = Q(flow__in=integrations.visible_flows(user, action)) | Q(
        connector__in=Connector.objects.restrict(user, action)
    )
    if user.has_perm("monitoring.view_heartbeat"):
        about |= Q(flow__isnull=True, connector__isnull=True)
    return alerts.filter(about)


def ordered(alerts):
    """Unresolved before resolved, critical before warning, then the newest first."""
    rank = Case(
        When(resolved_at__isnull=False, then=Value(2)),
        When(severity=Severity.CRITICAL, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return alerts.annotate(rank=rank).order_by("rank", "-opened_at", "-pk")


def changeable_ids(user, alerts) -> set[int]:
    """Which of ``alerts`` ``user`` may acknowledge: one query for a page of them."""
    ids = [alert.pk for alert in alerts]
    return set(visible_alerts(user, "change").filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()


class AcknowledgeError(Exception):
    """Why an alert cannot be acknowledged; the message is meant for a person."""


def acknowledge(alert: Alert, user) -> Alert:
    """Mark ``alert`` as seen by ``user`` (it stays until its condition ends), in the audit trail."""
    now = timezone.now()
    # Conditional: of two people acknowledging at once, one does; the other is told who.
    taken = Alert.objects.filter(pk=alert.pk, resolved_at__isnull=True, acknowledged_at__isnull=True).update(
        acknowledged_at=now, acknowledged_by=user
    )
    alert.refresh_from_db()
    if not taken:
        if alert.resolved_at:
            raise AcknowledgeError("This alert is already resolved: its condition ended.")
        raise AcknowledgeError(f"{alert.acknowledged_by or 'Someone'} already acknowledged this alert.")
    record_event("alert.acknowledged", actor=user, target=alert, kind=alert.kind, key=alert.key)
    return alert
