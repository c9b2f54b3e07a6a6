"""Sending again what a reconciliation found deleted at a target: a real flow delivered customers to a
real SQL target (an SQLite file), someone deleted one there, and Junction sends it again as it last
sent it, through the outbox, in a run of the flow that delivered it."""

import sqlite3

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from conftest import api_as
from integrations import services
from integrations.choices import OutcomeStatus, ReconciliationStatus, RunStatus, Stage
from integrations.engine import pipeline, reconcile
from integrations.models import Delivery, RecordOutcome, Run
from integrations.tests.engine_world import customer_flow, make_target_db, sql_connector, target_rows, webhook_connector
from integrations.tests.test_engine import ADA, BOB, push, run_once
from monitoring.alerts import evaluate
from monitoring.choices import AlertKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tmp_path, personas):
    """Ada and Bob delivered to the target by a live flow; then Bob's row deleted there."""
    path = make_target_db(tmp_path / "target.sqlite3")
    source, target = webhook_connector(), sql_connector(path)
    services.grant_creator(target, personas["engineer"])
    flow = customer_flow(source, target)
    services.grant_creator(flow, personas["engineer"])
    push(source, ADA, BOB)
    assert run_once(flow).created == 2
    bob = Delivery.objects.get(target=target, payload__last_name="Stone")
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM customers WHERE key = ?", (bob.remote_id,))
    found = reconcile.perform(reconcile.start(target, "customer", queue=False).pk)
    assert found.missing_count == 1
    return {"flow": flow, "target": target, "path": path, "bob": bob, "found": found}


def deliver(run: Run) -> Run:
    """What the load task queued after commit does."""
    pipeline.load(run.pk, run.reconciliation.target_id)
    return Run.objects.get(pk=run.pk)


def test_the_deleted_record_is_created_again_as_last_sent(world, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        result = services.resend_deleted(world["found"], personas["engineer"])

    [run] = result.runs
    assert (result.sent, result.left, len(queued)) == (1, {}, 1)
    assert (run.flow, run.trigger, run.reconciliation, run.requested_by) == (
        world["flow"],
        "restore",
        world["found"],
        personas["engineer"],
    )
    row = run.outcomes.get()
    bob = world["bob"]
    assert row.mapped == bob.payload and row.subject == bob.subject and row.status == OutcomeStatus.PENDING
    assert row.idempotency_key != bob.last_key  # the target holds nothing under the old key any more

    run = deliver(run)

    assert (run.status, run.read, run.created) == (RunStatus.SUCCEEDED, 1, 1)
    assert (bob.remote_id, "Stone", "bob@example.com", "US") in target_rows(world["path"])
    again = Delivery.objects.get(target=world["target"], subject=bob.subject)
    assert (again.remote_id, again.last_key, again.payload) == (bob.remote_id, row.idempotency_key, bob.payload)
    later = reconcile.perform(reconcile.start(world["target"], "customer", queue=False).pk)
    assert (later.delivered, later.missing_count) == (2, 0)


def test_it_settles_the_reconciliation_once_resolves_the_alert_and_is_audited(world, personas):
    [alert] = evaluate().opened
    assert alert.kind == AlertKind.RECORDS_GONE

    services.resend_deleted(world["found"], personas["engineer"], via="api")

    found = world["found"]
    found.refresh_from_db()
    assert found.resent_by == personas["engineer"] and found.resent_at and found.settled
    assert [a.pk for a in evaluate().resolved] == [alert.pk]
    entry = LogEntry.objects.get_for_object(world["target"]).get(additional_data__action="resend_deleted")
    assert entry.actor == personas["engineer"]
    assert entry.additional_data | {"runs": None} == {
        "action": "resend_deleted",
        "reconciliation": found.pk,
        "entity": "customer",
        "records": 1,
        "runs": None,
        "left": {},
        "via": "api",
    }
    with pytest.raises(reconcile.ReconcileError, match="engineer already had these records sent again"):
        services.resend_deleted(found, personas["engineer"])
    with pytest.raises(reconcile.ReconcileError, match="already had these records sent again"):
        services.accept_deletions(found, personas["engineer"])
    assert Run.objects.filter(trigger="restore").count() == 1


def test_accepted_deletions_cannot_be_sent_again(world, personas):
    services.accept_deletions(world["found"], personas["engineer"])
    with pytest.raises(reconcile.ReconcileError, match="already accepted these deletions"):
        services.resend_deleted(world["found"], personas["engineer"])
    assert not Run.objects.filter(trigger="restore").exists()


def test_records_whose_flow_no_longer_delivers_are_counted_with_the_reason_and_forgotten(world, personas):
    flow = world["flow"]
    flow.stage = Stage.PAUSED
    flow.save()

    result = services.resend_deleted(world["found"], personas["engineer"])

    assert result.runs == [] and result.sent == 0
    assert result.left == {f"its flow “{flow}” is in Paused, not pilot or live": 1}
    assert not Delivery.objects.filter(subject=world["bob"].subject).exists()  # as accepting would
    assert Delivery.objects.filter(target=world["target"]).count() == 1  # Ada's stays


def test_a_target_removed_from_the_flow_is_a_reason_too(world, personas):
    world["flow"].targets.clear()
    result = services.resend_deleted(world["found"], personas["engineer"])
    assert result.left == {f"its flow “{world['flow']}” no longer delivers to {world['target']}": 1}


def test_a_golden_record_merged_away_since_is_not_brought_back(world, personas):
    from masterdata.models import GoldenRecord
    from masterdata.services.merge import merge

    bob = GoldenRecord.objects.get(pk=world["bob"].subject.removeprefix("golden:"))
    ada = GoldenRecord.objects.exclude(pk=bob.pk).get()
    merge(ada, bob)  # a steward decided they are one person: the survivor is what the target should hold
    result = services.resend_deleted(world["found"], personas["engineer"])
    assert (result.sent, result.left) == (0, {"its golden record was merged into another since": 1})


def test_a_purged_last_outcome_is_a_reason(world, personas):
    RecordOutcome.objects.filter(idempotency_key=world["bob"].last_key).delete()
    result = services.resend_deleted(world["found"], personas["engineer"])
    assert result.left == {"what was last sent is no longer kept": 1}


def test_a_target_that_rejects_it_now_quarantines_it_with_the_reason(world, personas):
    with sqlite3.connect(world["path"]) as db:  # the target's owners now allow short names only
        db.execute("DROP TABLE customers")
        db.execute(
            "CREATE TABLE customers (key TEXT PRIMARY KEY, last_name TEXT CHECK (length(last_name) < 5),"
            " email TEXT, country TEXT)"
        )
    [run] = services.resend_deleted(world["found"], personas["engineer"]).runs

    run = deliver(run)

    row = run.outcomes.get()
    assert (run.status, run.failed, row.status) == (RunStatus.PARTIAL, 1, OutcomeStatus.QUARANTINED)
    assert "CHECK constraint failed" in row.error_message  # waits on the replay page, nothing lost
    assert not Delivery.objects.filter(subject=world["bob"].subject).exists()  # no claim it is there


def test_people_who_may_not_reconcile_the_target_cannot(world, personas):
    for role in ("viewer", "steward", "auditor"):
        with pytest.raises(PermissionDenied):
            services.resend_deleted(world["found"], personas[role])
    assert world["found"].status == ReconciliationStatus.DONE and not Run.objects.filter(trigger="restore").exists()


# --- The page -------------------------------------------------------------------------------


def resend_url(reconciliation) -> str:
    return reverse("integrations:reconciliation_resend", args=[reconciliation.pk])


def test_the_page_offers_both_ways_and_sending_shows_the_run(world, client_for, personas):
    found, client = world["found"], client_for(personas["engineer"])
    html = client.get(found.get_absolute_url()).content.decode()
    assert 'data-testid="resend-deleted"' in html and 'id="resend-dialog"' in html
    assert 'data-testid="accept-deletions"' in html and f'action="{resend_url(found)}"' in html
    viewer = client_for(personas["viewer"]).get(found.get_absolute_url()).content.decode()
    assert 'data-testid="resend-deleted"' not in viewer and 'id="resend-dialog"' not in viewer

    response = client_for(personas["engineer"]).post(resend_url(found), follow=True)

    assert response.redirect_chain == [(found.get_absolute_url(), 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "1 record is on its way to “Reporting DB” again: follow the run below."
    ]
    html = response.content.decode()
    run = Run.objects.get(trigger="restore")
    assert 'data-testid="reconciliation-resent"' in html and "Sent again by engineer" in html
    assert f'href="{run.get_absolute_url()}"' in html and 'data-testid="resend-deleted"' not in html
    assert 'data-testid="accept-deletions"' not in html


def test_the_page_says_what_could_not_be_sent(world, client_for, personas):
    flow = world["flow"]
    flow.stage = Stage.PAUSED
    flow.save()
    response = client_for(personas["engineer"]).post(resend_url(world["found"]), follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        f"1 record could not be sent again (its flow “{flow}” is in Paused, not pilot or live); "
        "Junction forgot it delivered it."
    ]


def test_the_page_refuses_people_who_may_not_and_a_second_time(world, client_for, personas):
    found = world["found"]
    assert client_for(personas["viewer"]).post(resend_url(found)).status_code == 403
    assert client_for(personas["steward"]).post(resend_url(found)).status_code == 404
    client = client_for(personas["engineer"])
    assert client.get(resend_url(found)).status_code == 405
    client.post(resend_url(found), follow=True)
    response = client.post(resend_url(found), follow=True)
    assert [str(m) for m in response.context["messages"]] == ["engineer already had these records sent again."]
    assert Run.objects.filter(trigger="restore").count() == 1


# --- The API --------------------------------------------------------------------------------


def test_the_api_sends_them_again_and_says_how_many(world, personas):
    found = world["found"]
    client = api_as(personas["engineer"])

    response = client.post(f"/api/v1/reconciliations/{found.pk}/resend/")

    assert response.status_code == 200, response.content
    body = response.json()
    run = Run.objects.get(trigger="restore")
    assert (body["sent"], body["not_sent"]) == (1, [])
    assert body["reconciliation"]["resent_by"] == "engineer" and body["reconciliation"]["resent_at"]
    assert body["reconciliation"]["resend_runs"] == [f"http://testserver/api/v1/runs/{run.pk}/"]
    again = client.post(f"/api/v1/reconciliations/{found.pk}/resend/")
    assert again.status_code == 409 and again.json() == {"detail": "engineer already had these records sent again."}
    viewer = api_as(personas["viewer"])
    refused = viewer.post(f"/api/v1/reconciliations/{found.pk}/resend/")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Your role may see reconciliations but not send their records again."
