"""The dead-letter queue: who sees which records, filters, replay and discard (with a
required reason) in bulk and one by one, the new run named, and the audit entries."""

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from integrations.choices import OutcomeStatus, Stage
from integrations.models import RecordOutcome, Run
from integrations.tests.pages import make_flow, make_outcomes, make_run

pytestmark = pytest.mark.django_db

LIST = reverse("integrations:deadletter_list")
REPLAY = reverse("integrations:deadletter_replay")
DISCARD = reverse("integrations:deadletter_discard")


@pytest.fixture
def waiting(personas):
    """A live flow of the engineer's with 3 dead and 2 quarantined records, and 1 delivered."""
    flow = make_flow("Orders", entity="sales_order", stage=Stage.LIVE, owner=personas["engineer"], mapping=[])
    run = make_run(flow, read=6, dead_lettered=3, quarantined=2, created=1)
    dead = make_outcomes(run, 3, status=OutcomeStatus.DEAD, error_class="TransientError", error_message="503 busy")
    quarantined = make_outcomes(
        run, 2, status=OutcomeStatus.QUARANTINED, error_class="PermanentError", error_message="bad postcode"
    )
    make_outcomes(run, 1, status=OutcomeStatus.DELIVERED, action="created")
    return flow, run, dead, quarantined


def ids(outcomes):
    return [o.pk for o in outcomes]


def test_queue_lists_waiting_records_of_visible_flows_only(client_for, personas, waiting):
    _flow, _run, dead, quarantined = waiting
    other = make_flow("Hidden", entity="sales_order", stage=Stage.LIVE)
    make_outcomes(make_run(other), 2, status=OutcomeStatus.DEAD)
    rows = client_for(personas["engineer"]).get(LIST).context["page"].rows
    assert {r.pk for r in rows} == set(ids(dead + quarantined))
    assert len(client_for(personas["admin"]).get(LIST).context["page"].rows) == 7
    auditor = client_for(personas["auditor"]).get(LIST)
    assert len(auditor.context["page"].rows) == 7 and b"replay-selected" not in auditor.content
    assert client_for(personas["viewer"]).get(LIST).status_code == 403
    assert client_for(personas["nobody"]).get(LIST).status_code == 403


def test_filters_by_flow_status_error_class_and_text(client_for, personas, waiting):
    flow, _run, dead, quarantined = waiting
    client = client_for(personas["engineer"])

    def shown(**params):
        return {r.pk for r in client.get(LIST, params).context["page"].rows}

    assert shown(status="quarantined") == set(ids(quarantined))
    assert shown(error_class="transienterror") == set(ids(dead))
    assert shown(q="postcode") == set(ids(quarantined))
    assert shown(q=dead[0].external_id) == {dead[0].pk}
    assert shown(flow=flow.pk) == set(ids(dead + quarantined))
    assert b"No records match these filters" in client.get(LIST, {"q": "nothing-like-this"}).content


def test_empty_queue_says_so(client_for, personas):
    response = client_for(personas["engineer"]).get(LIST)
    assert b"Nothing is waiting" in response.content


def test_bulk_replay_starts_a_run_names_it_and_is_audited(client_for, personas, waiting):
    flow, run, dead, _quarantined = waiting
    client = client_for(personas["engineer"])
    response = client.post(REPLAY, {"outcome": ids(dead[:2]), "next": LIST}, follow=True)
    replay = Run.objects.exclude(pk=run.pk).get()
    assert replay.trigger == "replay" and replay.requested_by == personas["engineer"]
    assert f"run #{replay.pk}" in response.content.decode() and "Replaying 2 records" in response.content.decode()
    assert set(RecordOutcome.objects.filter(run=replay).values_list("status", flat=True)) == {OutcomeStatus.PENDING}
    entry = LogEntry.objects.get_for_object(flow).get(additional_data__action="replay")
    assert entry.actor == personas["engineer"]
    assert entry.additional_data["run"] == replay.pk and entry.additional_data["outcomes"] == ids(dead[:2])


def test_single_row_replay_uses_only_that_record(client_for, personas, waiting):
    _flow, run, dead, _quarantined = waiting
    client = client_for(personas["engineer"])
    client.post(REPLAY, {"only": [str(dead[2].pk), ""], "outcome": ids(dead[:2])})
    replay = Run.objects.exclude(pk=run.pk).get()
    assert list(replay.outcomes.values_list("pk", flat=True)) == [dead[2].pk]


def test_discard_needs_a_reason_and_keeps_it(client_for, personas, waiting):
    flow, _run, _dead, quarantined = waiting
    client = client_for(personas["engineer"])
    response = client.post(DISCARD, {"outcome": ids(quarantined), "reason": "  "}, follow=True)
    assert "reason is required" in response.content.decode()
    assert RecordOutcome.objects.filter(status=OutcomeStatus.DISCARDED).count() == 0

    response = client.post(DISCARD, {"outcome": ids(quarantined), "reason": "Test customers, not real"}, follow=True)
    assert "Discarded 2 records" in response.content.decode()
    discarded = RecordOutcome.objects.filter(pk__in=ids(quarantined))
    assert {(o.status, o.discard_reason) for o in discarded} == {(OutcomeStatus.DISCARDED, "Test customers, not real")}
    entry = LogEntry.objects.get_for_object(flow).get(additional_data__action="discard")
    assert entry.additional_data["reason"] == "Test customers, not real" and entry.additional_data["records"] == 2
    assert entry.actor == personas["engineer"]


def test_someone_elses_records_are_404_and_nothing_happens(client_for, personas, waiting):
    _flow, _run, dead, _quarantined = waiting
    other = make_flow("Not mine", entity="sales_order", stage=Stage.LIVE)
    foreign = make_outcomes(make_run(other), 1, status=OutcomeStatus.DEAD)
    client = client_for(personas["engineer"])
    assert client.post(REPLAY, {"outcome": [*ids(dead), *ids(foreign)]}).status_code == 404
    assert client.post(DISCARD, {"outcome": ids(foreign), "reason": "x"}).status_code == 404
    assert Run.objects.count() == 2
    auditor = client_for(personas["auditor"])
    assert auditor.post(REPLAY, {"outcome": ids(dead)}).status_code == 404
    assert not RecordOutcome.objects.filter(status=OutcomeStatus.DISCARDED).exists()


def test_replay_refused_while_the_flow_does_not_deliver(client_for, personas, waiting):
    flow, _run, dead, _quarantined = waiting
    flow.stage = Stage.PAUSED
    flow.save()
    response = client_for(personas["engineer"]).post(REPLAY, {"outcome": ids(dead)}, follow=True)
    assert "must be in pilot or live" in response.content.decode()
    assert Run.objects.count() == 1


def test_nothing_selected_is_a_gentle_warning(client_for, personas, waiting):
    response = client_for(personas["engineer"]).post(REPLAY, {}, follow=True)
    assert "Select the records to replay first" in response.content.decode()


def test_queue_pages_by_id_without_counting(client_for, personas, django_assert_max_num_queries):
    flow = make_flow("Big", entity="sales_order", stage=Stage.LIVE)
    make_outcomes(make_run(flow), 120, status=OutcomeStatus.DEAD, error_class="TransientError")
    client = client_for(personas["admin"])
    with django_assert_max_num_queries(14):
        first = client.get(LIST)
    page = first.context["page"]
    assert len(page.rows) == 50 and page.next_after == page.rows[-1].pk
    assert [r.pk for r in page.rows] == sorted((r.pk for r in page.rows), reverse=True)
    second = client.get(LIST, {"after": page.next_after}).context["page"]
    assert max(r.pk for r in second.rows) < min(r.pk for r in page.rows)
