"""Alerts open when a condition starts and resolve when it ends, once each, from the real state
of flows, runs, outcomes, connectors and heartbeats (monitoring/alerts.py)."""

import threading
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.db import IntegrityError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.celery import app
from conftest import wait_for
from integrations.choices import CircuitState, OutcomeStatus, RunStatus, Stage, Trigger
from integrations.models import Flow, RecordOutcome, Run
from integrations.tests.pages import make_flow, make_outcomes, make_run, rest_connector
from monitoring.alerts import AcknowledgeError, acknowledge, evaluate
from monitoring.choices import AlertKind, AlertStatus, Component, Severity
from monitoring.models import Alert, Heartbeat

pytestmark = pytest.mark.django_db


def unresolved() -> dict[str, Alert]:
    return {a.key: a for a in Alert.objects.unresolved()}


# --- Runs ---------------------------------------------------------------------------------------


def test_a_failed_last_run_is_critical_until_a_later_run_succeeds():
    flow = make_flow(stage=Stage.LIVE)
    make_run(flow, RunStatus.FAILED, error="The source connector ERP REST is disabled.")

    result = evaluate()

    [alert] = result.opened
    assert (alert.kind, alert.severity, alert.flow) == (AlertKind.RUN_FAILED, Severity.CRITICAL, flow)
    assert alert.title == f"The last run of {flow} failed"
    assert "The source connector ERP REST is disabled." in alert.detail
    assert alert.status == AlertStatus.OPEN

    make_run(flow, RunStatus.SUCCEEDED)
    result = evaluate()

    assert [a.pk for a in result.resolved] == [alert.pk] and not result.opened
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED and alert.resolved_at is not None


def test_a_run_with_problems_is_a_warning_that_names_them():
    flow = make_flow(stage=Stage.PILOT)
    run = make_run(flow, RunStatus.PARTIAL, quarantined=3, dead_lettered=2)

    [alert] = evaluate().opened

    assert (alert.kind, alert.severity) == (AlertKind.RUN_PROBLEMS, Severity.WARNING)
    assert alert.detail.startswith(f"Run {run.pk}: 3 quarantined, 2 dead-lettered.")


def test_only_delivering_flows_raise_run_alerts():
    for stage in (Stage.DRAFT, Stage.TEST, Stage.PAUSED):
        make_run(make_flow(f"Flow in {stage}", stage=stage), RunStatus.FAILED)

    assert evaluate().opened == []


def test_an_unfinished_run_is_only_judged_by_the_last_finished_one():
    flow = make_flow(stage=Stage.LIVE)
    make_run(flow, RunStatus.FAILED)
    make_run(flow, RunStatus.EXTRACTING)  # the next run is going: the failure still stands

    assert [a.kind for a in evaluate().opened] == [AlertKind.RUN_FAILED]


def test_a_run_going_past_the_limit_is_stuck(settings):
    settings.JUNCTION_ALERT_RUN_MINUTES = 30
    flow = make_flow(stage=Stage.LIVE)
    slow = make_run(flow, RunStatus.DELIVERING)
    make_run(flow, RunStatus.EXTRACTING)  # queued just now: not stuck
    Run.objects.filter(pk=slow.pk).update(queued_at=timezone.now() - timedelta(minutes=45))

    [alert] = evaluate().opened

    assert (alert.kind, alert.key, alert.flow) == (AlertKind.RUN_STUCK, f"run_stuck:run:{slow.pk}", flow)
    assert alert.title == f"Run {slow.pk} of {flow} has been going for 45\xa0minutes"

    Run.objects.filter(pk=slow.pk).update(status=RunStatus.SUCCEEDED, finished_at=timezone.now())
    assert [a.pk for a in evaluate().resolved] == [alert.pk]


# --- Schedules ----------------------------------------------------------------------------------


def scheduled_flow(minutes: int, **fields) -> Flow:
    return make_flow(
        "Stock every few minutes", stage=Stage.LIVE, trigger=Trigger.SCHEDULE, schedule_minutes=minutes, **fields
    )


def test_a_scheduled_flow_is_late_after_twice_its_interval_and_the_grace(settings):
    settings.JUNCTION_ALERT_LATE_GRACE_MINUTES = 5
    flow = scheduled_flow(10, source=rest_connector("Shop API"))
    run = make_run(flow, RunStatus.SUCCEEDED)
    now = timezone.now()

    Run.objects.filter(pk=run.pk).update(queued_at=now - timedelta(minutes=24))
    assert evaluate(now).opened == []  # 24 < 2 x 10 + 5

    Run.objects.filter(pk=run.pk).update(queued_at=now - timedelta(minutes=26))
    [alert] = evaluate(now).opened
    assert (alert.kind, alert.flow) == (AlertKind.FLOW_LATE, flow)
    assert alert.title == f"{flow} has not run for 26\xa0minutes"
    assert "scheduled every 10 minutes" in alert.detail

    make_run(flow, RunStatus.QUEUED)  # the scheduler came back
    assert [a.pk for a in evaluate(now).resolved] == [alert.pk]


def test_a_scheduled_flow_that_never_ran_counts_from_its_last_change():
    flow = scheduled_flow(10, source=rest_connector("Shop API"))
    assert evaluate().opened == []  # just promoted

    Flow.objects.filter(pk=flow.pk).update(updated=timezone.now() - timedelta(hours=1))
    assert [a.kind for a in evaluate().opened] == [AlertKind.FLOW_LATE]


def test_manual_and_paused_flows_are_never_late():
    old = timezone.now() - timedelta(days=2)
    make_flow("By hand", stage=Stage.LIVE, source=rest_connector("Manual source"))
    make_flow("Paused", stage=Stage.PAUSED, trigger=Trigger.SCHEDULE, schedule_minutes=5, source=rest_connector("P"))
    Flow.objects.update(updated=old)

    assert evaluate().opened == []


# --- The dead-letter queue ----------------------------------------------------------------------


def test_waiting_records_keep_one_alert_whose_count_follows_the_queue():
    flow = make_flow(stage=Stage.LIVE)
    run = make_run(flow, RunStatus.SUCCEEDED)  # a clean run: only the queue is wrong
    make_outcomes(run, 2, status=OutcomeStatus.DEAD)
    make_outcomes(run, 1, status=OutcomeStatus.QUARANTINED)
    make_outcomes(run, 4, status=OutcomeStatus.DELIVERED)

    [alert] = evaluate().opened
    assert (alert.kind, alert.title) == (AlertKind.DEAD_LETTERS, f"3 records of {flow} wait in the dead-letter queue")

    make_outcomes(run, 2, status=OutcomeStatus.DEAD)
    second = evaluate()
    assert second.opened == [] and second.resolved == []
    alert.refresh_from_db()
    assert alert.title == f"5 records of {flow} wait in the dead-letter queue"
    assert alert.last_seen_at > alert.opened_at

    RecordOutcome.objects.filter(status__in=(OutcomeStatus.DEAD, OutcomeStatus.QUARANTINED)).update(
        status=OutcomeStatus.DISCARDED
    )
    assert [a.pk for a in evaluate().resolved] == [alert.pk]


def test_dry_run_outcomes_are_not_dead_letters():
    flow = make_flow(stage=Stage.TEST)
    make_outcomes(make_run(flow, RunStatus.SUCCEEDED), 3, status=OutcomeStatus.QUARANTINED, dry_run=True)

    assert evaluate().opened == []


# --- Connectors and workers ---------------------------------------------------------------------


def test_an_open_circuit_is_critical_until_the_probe_closes_it():
    target = rest_connector("Warehouse API")
    target.circuit, target.last_error = CircuitState.OPEN, "HTTP 503 from POST /stock: maintenance"
    target.circuit_retry_at = timezone.now() + timedelta(minutes=1)
    target.save()

    [alert] = evaluate().opened

    assert (alert.kind, alert.severity, alert.connector) == (AlertKind.CIRCUIT_OPEN, Severity.CRITICAL, target)
    assert alert.title == "Deliveries to Warehouse API are paused: its circuit breaker opened"
    assert "HTTP 503 from POST /stock: maintenance" in alert.detail

    target.circuit = CircuitState.CLOSED
    target.save()
    assert [a.pk for a in evaluate().resolved] == [alert.pk]


def test_a_worker_gone_silent_is_reported_until_it_is_forgotten():
    now = timezone.now()
    Heartbeat.objects.create(component=Component.WORKER, hostname="sync@host-a", last_seen=now)
    Heartbeat.objects.create(component=Component.WORKER, hostname="sync@host-b", last_seen=now - timedelta(minutes=5))
    Heartbeat.objects.create(component=Component.SCHEDULER, hostname="beat", last_seen=now - timedelta(minutes=5))

    [alert] = evaluate(now).opened

    assert (alert.kind, alert.key) == (AlertKind.WORKER_SILENT, "worker_silent:sync@host-b")
    assert alert.flow is None and alert.connector is None
    assert alert.title == "Worker sync@host-b has been silent for 5\xa0minutes"

    Heartbeat.objects.filter(hostname="sync@host-b").update(last_seen=now - timedelta(hours=25))  # pruned soon
    assert [a.pk for a in evaluate(now).resolved] == [alert.pk]


# --- Keys ---------------------------------------------------------------------------------------


def test_a_condition_that_returns_opens_a_new_alert_and_keeps_the_old_one():
    target = rest_connector("Flaky API")
    Target = type(target)
    Target.objects.filter(pk=target.pk).update(circuit=CircuitState.OPEN)
    [first] = evaluate().opened
    Target.objects.filter(pk=target.pk).update(circuit=CircuitState.CLOSED)
    evaluate()
    Target.objects.filter(pk=target.pk).update(circuit=CircuitState.OPEN)

    [second] = evaluate().opened

    assert second.pk != first.pk and second.key == first.key
    assert Alert.objects.filter(key=first.key).count() == 2
    assert list(unresolved()) == [first.key]


def test_one_unresolved_alert_per_key_is_a_database_constraint():
    Alert.objects.create(key="circuit_open:connector:1", kind=AlertKind.CIRCUIT_OPEN, severity=Severity.CRITICAL)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(key="circuit_open:connector:1", kind=AlertKind.CIRCUIT_OPEN, severity=Severity.CRITICAL)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_overlapping_evaluations_open_one_alert():
    # The second evaluation starts while the first holds its transaction open: without the
    # evaluation lock both would insert the new condition's alert and the second would fail.
    target = rest_connector("Slow API")
    type(target).objects.filter(pk=target.pk).update(circuit=CircuitState.OPEN)
    errors, done = [], threading.Event()

    def second():
        try:
            evaluate()
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()
            done.set()

    with transaction.atomic():
        [alert] = evaluate().opened
        thread = threading.Thread(target=second)
        thread.start()
        wait_for(lambda: _waiting_on_a_lock(), message="the second evaluation to wait")
    thread.join(timeout=30)

    assert done.is_set() and errors == []
    assert list(Alert.objects.values_list("pk", flat=True)) == [alert.pk]


def _waiting_on_a_lock() -> bool:
    """Another session waits for a lock (pg_locks is read live; pg_stat_activity would be a
    snapshot kept for the whole transaction)."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0] > 0


# --- Acknowledging ------------------------------------------------------------------------------


def test_acknowledging_names_the_person_once_and_is_audited(personas):
    target = rest_connector("Warehouse API")
    type(target).objects.filter(pk=target.pk).update(circuit=CircuitState.OPEN)
    [alert] = evaluate().opened
    engineer, admin = personas["engineer"], personas["admin"]

    acknowledge(alert, engineer)

    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED and alert.acknowledged_by == engineer
    entry = LogEntry.objects.get(additional_data__event="alert.acknowledged")
    assert entry.actor == engineer and entry.additional_data["key"] == alert.key
    with pytest.raises(AcknowledgeError, match="engineer already acknowledged this alert"):
        acknowledge(Alert.objects.get(pk=alert.pk), admin)
    assert evaluate().opened == []  # still holds: it stays, acknowledged, until it ends


def test_a_resolved_alert_cannot_be_acknowledged(personas):
    alert = Alert.objects.create(
        key="k", kind=AlertKind.RUN_FAILED, severity=Severity.CRITICAL, resolved_at=timezone.now()
    )
    with pytest.raises(AcknowledgeError, match="already resolved"):
        acknowledge(alert, personas["engineer"])


# --- The beat task on a real worker -------------------------------------------------------------


@pytest.mark.worker
def test_the_beat_task_evaluates_on_a_worker(start_worker):
    target = rest_connector("Warehouse API")
    type(target).objects.filter(pk=target.pk).update(circuit=CircuitState.OPEN)
    worker = start_worker()

    app.send_task("monitoring.tasks.evaluate_alerts", queue=worker.queue)

    def opened():
        connections.close_all()
        return list(Alert.objects.unresolved().values_list("kind", flat=True))

    assert wait_for(opened, message="the worker's evaluation") == [AlertKind.CIRCUIT_OPEN]
    assert "monitoring.tasks.evaluate_alerts" in app.conf.beat_schedule["evaluate-alerts"]["task"]


def test_evaluation_takes_the_same_queries_for_many_flows_as_for_one():
    def failing(n: int) -> None:
        flow = make_flow(f"Flow {n}", stage=Stage.LIVE)
        make_outcomes(make_run(flow, RunStatus.FAILED), 1)

    failing(0)
    with CaptureQueriesContext(connection) as one:
        evaluate()  # opens 2 alerts
        evaluate()  # refreshes them
    Alert.objects.all().delete()
    for n in range(1, 30):
        failing(n)
    with CaptureQueriesContext(connection) as many:
        evaluate()  # opens 60
        evaluate()
    assert Alert.objects.unresolved().count() == 60
    assert len(many) == len(one)
