"""Stored reconciliations: started by a person, the schedule or the command, run by a worker against
a real SQL target (an SQLite file here; the adapter's key listing is tested on every dialect in
adapters/test_sql.py), and the alert that stays open while delivered records are gone."""

import sqlite3
import tracemalloc
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from config.celery import app
from conftest import wait_for
from integrations.choices import ReconciliationStatus
from integrations.engine import reconcile
from integrations.models import Delivery, Reconciliation
from integrations.tests.engine_world import make_target_db, sql_connector
from integrations.tests.pages import rest_connector
from monitoring.alerts import evaluate
from monitoring.choices import AlertKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def target(tmp_path):
    """An SQL target holding three customers Junction delivered."""
    path = make_target_db(tmp_path / "target.sqlite3")
    connector = sql_connector(path)
    connector.path = path
    for n in (1, 2, 3):
        deliver(connector, f"C-{n}")
    return connector


def deliver(connector, key: str, *, into_table: bool = True) -> None:
    payload = {"key": key, "last_name": f"Person {key}", "email": "", "country": "DE"}
    Delivery.objects.create(
        target=connector, entity="customer", subject=f"1:{key}", remote_id=key, last_key="k", payload=payload
    )
    if into_table:
        with sqlite3.connect(connector.path) as db:
            db.execute("INSERT INTO customers (key, last_name, country) VALUES (?, ?, ?)", (key, key, "DE"))


def delete_at_target(connector, key: str) -> None:
    with sqlite3.connect(connector.path) as db:
        db.execute("DELETE FROM customers WHERE key = ?", (key,))


def run(target, entity: str = "customer", **kwargs) -> Reconciliation:
    return reconcile.perform(reconcile.start(target, entity, queue=False, **kwargs).pk)


def test_a_reconciliation_stores_what_the_target_no_longer_holds(target, personas, django_capture_on_commit_callbacks):
    delete_at_target(target, "C-2")
    with django_capture_on_commit_callbacks() as queued:
        started = reconcile.start(target, "customer", user=personas["engineer"])
    assert started.status == ReconciliationStatus.QUEUED and len(queued) == 1  # the worker's task, after commit

    done = reconcile.perform(started.pk)

    assert done.status == ReconciliationStatus.DONE
    assert (done.delivered, done.present, done.missing_count) == (3, 2, 1)
    assert done.missing == [{"key": "C-2", "subject": "1:C-2"}]
    assert done.started_at <= done.finished_at and done.requested_by == personas["engineer"]
    assert reconcile.perform(started.pk) is None  # a second delivery of the task does nothing


def test_the_missing_list_is_capped_but_the_count_is_not(target, monkeypatch):
    monkeypatch.setattr(reconcile, "MISSING_KEPT", 2)
    for n in range(4, 9):
        deliver(target, f"C-{n}", into_table=False)

    done = run(target)

    assert done.missing_count == 5 and [m["key"] for m in done.missing] == ["C-4", "C-5"]


def test_a_target_that_cannot_be_read_fails_with_the_reason(target):
    target.settings = {**target.settings, "path": str(target.path.parent / "gone.sqlite3")}
    target.save()

    done = run(target)

    assert done.status == ReconciliationStatus.FAILED
    assert done.error == "Reporting DB: SQLite: unable to open database file" and done.finished_at is not None


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda t: rest_connector("Shop API"), "The REST/JSON API adapter cannot list what Shop API holds."),
        (lambda t: _disabled(t), "Reporting DB is disabled."),
        (lambda t: _busy(t), "A reconciliation of Reporting DB for customer is already queued."),
    ],
)
def test_what_cannot_be_reconciled_says_why(target, make, message):
    connector = make(target)
    with pytest.raises(reconcile.ReconcileError, match=f"^{message.replace('.', '[.]')}$"):
        reconcile.start(connector, "customer")


def _disabled(target):
    target.enabled = False
    target.save()
    return target


def _busy(target):
    reconcile.start(target, "customer", queue=False)
    return target


# --- The schedule -------------------------------------------------------------------------------


def test_the_schedule_starts_each_target_and_entity_once_per_period(
    target, settings, django_capture_on_commit_callbacks
):
    settings.JUNCTION_RECONCILE_HOURS = 24
    rest = rest_connector("Shop API")  # cannot list its keys: never scheduled
    Delivery.objects.create(target=rest, entity="customer", subject="1:X", remote_id="X", last_key="k")
    Delivery.objects.create(target=target, entity="sales_order", subject="1:O-1", remote_id="O-1", last_key="k")

    with django_capture_on_commit_callbacks() as queued:
        assert reconcile.schedule() == 2
    assert len(queued) == 2
    assert sorted(Reconciliation.objects.values_list("target__name", "entity")) == [
        ("Reporting DB", "customer"),
        ("Reporting DB", "sales_order"),
    ]
    for pk in Reconciliation.objects.values_list("pk", flat=True):
        reconcile.perform(pk)
    assert reconcile.schedule() == 0  # done an instant ago

    Reconciliation.objects.update(queued_at=timezone.now() - timedelta(hours=25))
    assert reconcile.schedule() == 2


def test_the_schedule_can_be_turned_off(target, settings):
    settings.JUNCTION_RECONCILE_HOURS = 0
    assert reconcile.schedule() == 0
    assert not Reconciliation.objects.exists()


def test_the_schedule_requeues_lost_messages_and_fails_abandoned_runs(
    target, settings, django_capture_on_commit_callbacks
):
    settings.JUNCTION_RECONCILE_HOURS = 0
    lost = reconcile.start(target, "customer", queue=False)
    abandoned = reconcile.start(target, "sales_order", queue=False)
    long_ago = timezone.now() - timedelta(hours=2)
    Reconciliation.objects.filter(pk=lost.pk).update(queued_at=long_ago)
    Reconciliation.objects.filter(pk=abandoned.pk).update(status=ReconciliationStatus.RUNNING, started_at=long_ago)

    with django_capture_on_commit_callbacks() as queued:
        reconcile.schedule()

    assert len(queued) == 1  # the lost one, queued again
    abandoned.refresh_from_db()
    assert abandoned.status == ReconciliationStatus.FAILED
    assert abandoned.error.startswith("The worker stopped before it finished")


# --- The alert ----------------------------------------------------------------------------------


def test_records_gone_keep_an_alert_open_until_a_reconciliation_finds_none(target):
    delete_at_target(target, "C-1")
    delete_at_target(target, "C-3")
    first = run(target)

    [alert] = evaluate().opened

    assert (alert.kind, alert.connector) == (AlertKind.RECORDS_GONE, target)
    assert alert.title == "2 customer records delivered to Reporting DB are gone from it"
    assert f"Reconciliation {first.pk}" in alert.detail

    target.settings = {**target.settings, "path": str(target.path.parent / "gone.sqlite3")}
    target.save()
    assert run(target).status == ReconciliationStatus.FAILED
    failing = evaluate()
    assert failing.resolved == []  # a failed comparison proves nothing about deletions
    assert [a.kind for a in failing.opened] == [AlertKind.RECONCILIATION_FAILED]

    target.settings = {**target.settings, "path": str(target.path)}
    target.save()
    Delivery.objects.filter(subject__in=["1:C-1", "1:C-3"]).delete()  # sent again, or let go
    assert run(target).missing_count == 0
    assert sorted(a.pk for a in evaluate().resolved) == sorted([alert.pk, failing.opened[0].pk])


def test_accepting_deletions_forgets_them_and_resolves_the_alert(target, personas):
    delete_at_target(target, "C-2")
    found = run(target)
    [alert] = evaluate().opened

    assert reconcile.accept_deletions(found, personas["engineer"]) == 1

    assert sorted(Delivery.objects.values_list("subject", flat=True)) == ["1:C-1", "1:C-3"]
    assert found.accepted_by == personas["engineer"] and found.accepted_at is not None
    assert [a.pk for a in evaluate().resolved] == [alert.pk]
    assert run(target).missing_count == 0  # no longer reported
    with pytest.raises(reconcile.ReconcileError, match="engineer already accepted these deletions"):
        reconcile.accept_deletions(found)


def test_only_the_latest_reconciliation_with_deletions_can_be_accepted(target):
    delete_at_target(target, "C-2")
    older = run(target)
    latest = run(target)

    with pytest.raises(reconcile.ReconcileError, match="A later reconciliation of this target exists"):
        reconcile.accept_deletions(older)
    Delivery.objects.filter(subject="1:C-2").delete()
    nothing = run(target)
    with pytest.raises(reconcile.ReconcileError, match="found no deleted records to accept"):
        reconcile.accept_deletions(nothing)
    assert latest.accepted_at is None


def test_accepting_more_than_was_listed_queues_a_new_count(target, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(reconcile, "MISSING_KEPT", 2)
    for n in range(4, 8):
        deliver(target, f"C-{n}", into_table=False)
    found = run(target)

    with django_capture_on_commit_callbacks() as queued:
        assert reconcile.accept_deletions(found) == 2

    assert len(queued) == 1
    assert Reconciliation.objects.filter(status=ReconciliationStatus.QUEUED).count() == 1
    assert Delivery.objects.filter(subject__in=["1:C-6", "1:C-7"]).count() == 2  # not listed: kept


def test_a_failed_reconciliation_keeps_an_alert_open_until_one_succeeds(target):
    good = target.settings
    target.settings = {**good, "path": str(target.path.parent / "gone.sqlite3")}
    target.save()
    failed = run(target)

    [alert] = evaluate().opened

    assert (alert.kind, alert.connector) == (AlertKind.RECONCILIATION_FAILED, target)
    assert alert.title == "Reporting DB could not be reconciled (customer)"
    assert alert.detail.startswith(f"Reconciliation {failed.pk}: Reporting DB: SQLite: unable to open database file.")
    target.settings = good
    target.save()
    assert run(target).status == ReconciliationStatus.DONE
    assert [a.pk for a in evaluate().resolved] == [alert.pk]


# --- The command and the worker -----------------------------------------------------------------


def test_the_command_stores_its_reconciliation_and_exits_1_when_records_are_gone(target, capsys):
    call_command("reconcile_target", "Reporting DB", "customer")  # nothing gone: exits 0
    delete_at_target(target, "C-2")

    with pytest.raises(SystemExit) as exited:
        call_command("reconcile_target", str(target.pk), "customer")

    assert exited.value.code == 1
    assert "gone: C-2  (Junction's 1:C-2)" in capsys.readouterr().out
    assert list(Reconciliation.objects.values_list("missing_count", flat=True)) == [1, 0]


@pytest.mark.worker
def test_a_worker_runs_the_task(target, start_worker):
    delete_at_target(target, "C-3")
    started = reconcile.start(target, "customer", queue=False)
    worker = start_worker()

    app.send_task("integrations.tasks.reconcile_target", args=[started.pk], queue=worker.queue)

    def finished():
        connections.close_all()
        return Reconciliation.objects.filter(pk=started.pk, status=ReconciliationStatus.DONE).first()

    assert wait_for(finished, message="the worker's reconciliation").missing == [{"key": "C-3", "subject": "1:C-3"}]


def test_deliveries_are_compared_a_chunk_at_a_time(target):
    """A target of millions of records: its deliveries (each with the payload last sent) are
    read in chunks, so the comparison holds the target's keys, not every delivery at once."""
    assert reconcile.reconcile(target, "customer").missing_count == 0  # the adapter's modules imported
    wide = {"last_name": "x" * 1000, "email": "", "country": "DE"}
    Delivery.objects.bulk_create(
        Delivery(
            target=target,
            entity="customer",
            subject=f"1:W-{n}",
            remote_id=f"W-{n}",
            last_key="k",
            payload={**wide, "key": f"W-{n}"},
        )
        for n in range(20_000)
    )
    tracemalloc.start()
    try:
        result = reconcile.reconcile(target, "customer")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (result.delivered, result.present, result.missing_count) == (20_003, 3, 20_000)
    assert len(result.missing) == reconcile.MISSING_KEPT and result.missing[0] == ("W-0", "1:W-0")
    assert peak < 10_000_000, f"{peak:,} bytes at the peak"  # all 20,000 payloads at once: over 30 MB
