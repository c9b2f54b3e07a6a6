"""Which record rows the sweeper queues a load for: only those whose message is lost or is its own to send.

A staged row's load message is sent with it; on a busy broker it waits in the queue,
and another every sweep would only make the queue longer. A retry's or an expired
lease's message is the sweeper's to send, at the first sweep after it falls due.
"""

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from integrations import tasks
from integrations.choices import OutcomeStatus
from integrations.engine import actions, pipeline, sweeper
from integrations.models import InboundEvent, RecordOutcome
from integrations.tests.engine_world import make_target_db, sql_connector, staged_run

pytestmark = pytest.mark.django_db

ADA = {"id": "C-1", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "country": "GB"}
SECOND = timedelta(seconds=1)


@pytest.fixture
def queued(monkeypatch, settings):
    """The (run, target) pairs the sweeper sends ``load_target`` for, in order."""
    settings.JUNCTION_SWEEP_SECONDS = 10
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(tasks.load_target, "delay", lambda run_id, target_id: sent.append((run_id, target_id)))
    return sent


def sweep_queues(queued) -> list[tuple[int, int]]:
    queued.clear()
    assert sweeper.sweep()["deliveries"] == len(queued)
    return list(queued)


def test_a_row_just_staged_is_left_to_its_own_message_until_the_grace_has_passed(tmp_path, queued):
    target = sql_connector(make_target_db(tmp_path / "target.sqlite3"))
    run = staged_run(target, [ADA])
    assert RecordOutcome.objects.get(run=run).status == OutcomeStatus.PENDING

    assert sweep_queues(queued) == []  # its message may be waiting behind others in the broker

    RecordOutcome.objects.update(updated_at=F("updated_at") - sweeper.QUEUED_GRACE - SECOND)
    assert sweep_queues(queued) == [(run.pk, target.pk)]  # not taken by now: lost
    assert sweep_queues(queued) == [(run.pk, target.pk)]  # and again each sweep until a worker takes it


def test_a_held_lease_is_left_alone_and_an_expired_one_is_queued_at_once(tmp_path, queued):
    target = sql_connector(make_target_db(tmp_path / "target.sqlite3"))
    run = staged_run(target, [ADA])
    RecordOutcome.objects.update(updated_at=F("updated_at") - timedelta(hours=1))  # staged long ago
    assert len(pipeline.claim(run.pk, target.pk, 10)) == 1  # a worker holds it

    assert sweep_queues(queued) == []

    now = timezone.now()
    RecordOutcome.objects.update(lease_until=now - SECOND)  # that worker died
    assert sweep_queues(queued) == [(run.pk, target.pk)]
    RecordOutcome.objects.update(lease_until=now - timedelta(seconds=15))  # the sweep's message is on its way
    assert sweep_queues(queued) == []
    RecordOutcome.objects.update(lease_until=now - sweeper.QUEUED_GRACE - SECOND)  # and was lost
    assert sweep_queues(queued) == [(run.pk, target.pk)]


def test_a_retry_is_queued_as_soon_as_it_is_due_and_again_only_once_that_message_is_late(tmp_path, queued):
    target = sql_connector(tmp_path / "offline" / "target.sqlite3")  # down: its folder does not exist
    run = staged_run(target, [ADA])
    pipeline.load(run.pk, target.pk)
    row = RecordOutcome.objects.get(run=run)
    assert row.status == OutcomeStatus.RETRYING and row.lease_until is None  # failed just now
    now = timezone.now()

    RecordOutcome.objects.update(next_attempt_at=now + timedelta(minutes=1))
    assert sweep_queues(queued) == []  # not due yet

    # Nothing else wakes a retry: the first sweep after its time queues it, however recent the failure.
    RecordOutcome.objects.update(next_attempt_at=now - SECOND)
    assert sweep_queues(queued) == [(run.pk, target.pk)]
    RecordOutcome.objects.update(next_attempt_at=now - timedelta(seconds=15))  # that message is still queued
    assert sweep_queues(queued) == []
    RecordOutcome.objects.update(next_attempt_at=now - sweeper.QUEUED_GRACE - SECOND)  # and was lost
    assert sweep_queues(queued) == [(run.pk, target.pk)]


def test_a_run_with_many_rows_without_a_message_gets_one_message_per_target(tmp_path, queued):
    target = sql_connector(make_target_db(tmp_path / "target.sqlite3"))
    records = [{**ADA, "id": f"C-{n}", "email": f"c{n}@example.com"} for n in range(5)]
    run = staged_run(target, records)
    RecordOutcome.objects.update(updated_at=F("updated_at") - sweeper.QUEUED_GRACE - SECOND)
    assert RecordOutcome.objects.filter(run=run, status=OutcomeStatus.PENDING).count() == 5

    assert sweep_queues(queued) == [(run.pk, target.pk)]  # one load takes them all, batch by batch


def dead_letter_yesterday(run) -> RecordOutcome:
    RecordOutcome.objects.filter(run=run).update(
        status=OutcomeStatus.DEAD, updated_at=F("updated_at") - timedelta(days=1)
    )
    return RecordOutcome.objects.get(run=run)


def test_a_replayed_record_is_left_to_its_own_message_as_a_staged_one_is(tmp_path, queued):
    target = sql_connector(make_target_db(tmp_path / "target.sqlite3"))
    row = dead_letter_yesterday(staged_run(target, [ADA]))

    replay = actions.replay(RecordOutcome.objects.filter(pk=row.pk))
    row.refresh_from_db()
    assert (row.run_id, row.status) == (replay.pk, OutcomeStatus.PENDING)
    assert sweep_queues(queued) == []  # the replay sent its own message just now


def test_a_dead_record_sent_again_by_its_source_is_left_to_its_own_message(tmp_path, queued):
    target = sql_connector(make_target_db(tmp_path / "target.sqlite3"))
    run = staged_run(target, [ADA])
    row = dead_letter_yesterday(run)

    InboundEvent.objects.create(connector=run.flow.source, event_id="e-2", records=[ADA])
    again = actions.start_run(run.flow)
    pipeline.extract(pipeline.take_extraction(again.pk))
    row.refresh_from_db()
    assert (row.run_id, row.status) == (again.pk, OutcomeStatus.PENDING)  # revived, not a second row
    assert sweep_queues(queued) == []
