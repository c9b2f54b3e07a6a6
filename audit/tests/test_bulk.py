"""Bulk writes stay in the audit trail: the entries auditlog would write one by one, and the rows themselves."""

import contextvars
import copy
from datetime import timedelta

import psycopg
import pytest
from auditlog.cid import correlation_id
from auditlog.context import disable_auditlog
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.bulk import (
    bulk_insert,
    bulk_insert_rows,
    bulk_update,
    log_bulk_create,
    log_bulk_update,
    pipelined,
    reserve_ids,
)
from audit.context import acting_as
from integrations.models import System
from integrations.tests.factories import SystemFactory
from masterdata.models import BlockingKey, GoldenRecord, SourceRecord

pytestmark = pytest.mark.django_db


def golden(name="Anna Müller", **values):
    return GoldenRecord(entity="customer", display_name=name, values={"first_name": "Anna", **values}, lineage={})


def test_created_rows_get_the_entry_auditlog_writes_for_save():
    by_signal = golden()
    by_signal.save()  # auditlog's own receiver writes this one
    in_bulk = bulk_insert([golden()])[0]

    expected = LogEntry.objects.get_for_object(by_signal).get()
    (entry,) = log_bulk_create([in_bulk])
    entry.refresh_from_db()

    assert entry.action == LogEntry.Action.CREATE == expected.action
    assert (entry.content_type, entry.object_pk, entry.object_id) == (
        expected.content_type,
        str(in_bulk.pk),
        in_bulk.pk,
    )
    assert entry.object_repr == expected.object_repr == "Anna Müller"
    moving = {"id", "created", "updated"}  # differ between any two rows
    assert {k: v for k, v in entry.changes.items() if k not in moving} == {
        k: v for k, v in expected.changes.items() if k not in moving
    }
    assert set(entry.changes) == set(expected.changes)


def source():
    """Foreign keys (one set, one None), a date and time, nested JSON with text auditlog must not re-encode."""
    return SourceRecord(
        system=SystemFactory(),
        entity="customer",
        external_id="C-1",
        payload={"name": 'Zoë "Quote" Ørsted', "tags": ["a", {"b": None}], "n": 1.5},
        payload_hash="0" * 64,
        values={"last_name": "Ørsted"},
        changes=[{"field": "last_name", "before": " ørsted", "after": "Ørsted"}],
        status="linked",
        received_at=timezone.now() - timedelta(days=3, microseconds=7),
    )


@pytest.mark.parametrize("make", [golden, source, lambda: SystemFactory.build(notes="x")])
def test_the_create_diff_is_model_instance_diff(make):
    instance = bulk_insert([make()])[0]

    (entry,) = log_bulk_create([instance])
    entry.refresh_from_db()

    assert entry.changes == {k: list(v) for k, v in model_instance_diff(None, instance).items()}


def test_updated_rows_get_the_changed_fields_and_unchanged_rows_nothing():
    first, second = bulk_insert([golden(), golden("Ben")])
    before = [copy.copy(first), copy.copy(second)]
    first.values = {**first.values, "city": "Berlin"}
    bulk_update([first, second], ["values"])

    entries = log_bulk_update(zip(before, [first, second], strict=True))

    assert [e.object_id for e in entries] == [first.pk]
    assert list(entries[0].changes) == ["values"]
    assert GoldenRecord.objects.get(pk=first.pk).values["city"] == "Berlin"


def test_actor_and_correlation_id_come_from_the_context_or_the_caller(personas):
    engineer, steward = personas["engineer"], personas["steward"]
    rows = bulk_insert([golden(), golden("Ben")])

    def as_a_request():
        correlation_id.set("req-7")
        with acting_as(engineer, remote_addr="10.0.0.9"):
            (from_context,) = log_bulk_create(rows[:1])
        (from_caller,) = log_bulk_create(rows[1:], actor=steward, cid="run-3")
        return from_context, from_caller

    # In a context of its own (the correlation id is set without a token).
    from_context, from_caller = contextvars.copy_context().run(as_a_request)

    from_context.refresh_from_db()
    assert (from_context.actor, from_context.cid, from_context.remote_addr) == (engineer, "req-7", "10.0.0.9")
    from_caller.refresh_from_db()
    assert (from_caller.actor, from_caller.actor_email, from_caller.cid) == (steward, steward.email, "run-3")


def test_entries_name_their_object_type_and_actor_without_a_query(personas):
    steward = personas["steward"]
    rows = [*bulk_insert([golden(), golden("Ben")]), *bulk_insert([source()])]

    entries = log_bulk_create(rows, actor=steward, cid="run-9")

    with CaptureQueriesContext(connection) as queries:
        named = [(e.content_type.model, e.actor, e.actor_email, e.cid, e.action) for e in entries]
    assert len(queries) == 0
    assert named == [
        ("goldenrecord", steward, steward.email, "run-9", LogEntry.Action.CREATE),
        ("goldenrecord", steward, steward.email, "run-9", LogEntry.Action.CREATE),
        ("sourcerecord", steward, steward.email, "run-9", LogEntry.Action.CREATE),
    ]
    stored = {e.pk: e for e in LogEntry.objects.filter(pk__in=[e.pk for e in entries])}
    assert [(stored[e.pk].object_pk, stored[e.pk].object_repr) for e in entries] == [(str(r.pk), str(r)) for r in rows]


def test_models_auditlog_does_not_track_and_a_disabled_trail_get_no_entries():
    anna = bulk_insert([golden()])[0]
    keys = bulk_insert(
        [BlockingKey(golden=anna, entity="customer", key="n:A500|m")]
    )  # derived data, excluded in settings

    assert log_bulk_create(keys) == []
    with disable_auditlog():
        assert log_bulk_create([anna]) == []
    assert not LogEntry.objects.get_for_object(anna).exists()
    assert not LogEntry.objects.get_for_objects(BlockingKey.objects.all()).exists()


def test_bulk_insert_and_update_store_what_the_orm_would():
    system = SystemFactory()
    received = timezone.now().replace(microsecond=123456)
    row = SourceRecord(
        system=system,
        entity="customer",
        external_id="C-1",
        payload={"name": 'Zoë "Z" O\'Neil', "n": [1, 2.5, None]},
        payload_hash="a" * 64,
        status="linked",
        received_at=received,
    )
    bulk_insert([row])

    stored = SourceRecord.objects.get(pk=row.pk)
    assert (stored.payload, stored.received_at, stored.system_id) == (row.payload, received, system.pk)
    row.received_at, row.values = received + timedelta(seconds=1), {"first_name": "Zoë"}
    bulk_update([row], ["received_at", "values"])
    stored.refresh_from_db()
    assert (stored.received_at, stored.values) == (received + timedelta(seconds=1), {"first_name": "Zoë"})


def test_reserved_ids_are_new_and_bulk_insert_keeps_them():
    existing = SystemFactory()
    ids = reserve_ids(System, 3)

    assert len(set(ids)) == 3 and min(ids) > existing.pk
    systems = bulk_insert([SystemFactory.build(pk=pk) for pk in ids])
    assert sorted(System.objects.exclude(pk=existing.pk).values_list("pk", flat=True)) == ids == [s.pk for s in systems]


def test_bulk_insert_gives_each_instance_its_own_rows_id():
    rows = bulk_insert([golden(name) for name in ("Ann", "Bea", "Cid", "Dan")])

    assert [GoldenRecord.objects.get(pk=row.pk).display_name for row in rows] == ["Ann", "Bea", "Cid", "Dan"]
    assert all(not row._state.adding for row in rows)


def test_plain_rows_of_an_untracked_model_are_inserted_and_a_tracked_model_is_refused():
    first, second = bulk_insert([golden(), golden("Ben")])

    rows = [
        {"golden_id": first.pk, "entity": "customer", "key": "n:A|b", "rank": b"a b"},
        {"golden_id": second.pk, "entity": "customer", "key": "e:x", "rank": b""},
    ]
    bulk_insert_rows(BlockingKey, rows)

    held = {(g, key, bytes(rank)) for g, key, rank in BlockingKey.objects.values_list("golden_id", "key", "rank")}
    assert held == {(first.pk, "n:A|b", b"a b"), (second.pk, "e:x", b"")}  # bytes as bytes
    with pytest.raises(ValueError, match="in the audit trail"):
        bulk_insert_rows(GoldenRecord, [{"entity": "customer", "display_name": "x", "values": {}, "lineage": {}}])
    assert GoldenRecord.objects.count() == 2


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="pipeline mode is PostgreSQL's; elsewhere the block just runs"
)
def test_rows_sent_in_a_pipeline_are_written_and_returned_ids_are_in_order():
    with transaction.atomic(), pipelined():
        assert connection.connection.pgconn.pipeline_status == psycopg.pq.PipelineStatus.ON
        goldens = bulk_insert([golden(f"Person {n}") for n in range(3)])  # RETURNING: waits
        bulk_insert_rows(
            BlockingKey, [{"golden_id": g.pk, "entity": "customer", "key": f"k{g.pk}", "rank": b""} for g in goldens]
        )  # no wait
        (entry,) = log_bulk_create(goldens[:1])
    assert [g.display_name for g in GoldenRecord.objects.order_by("pk")] == ["Person 0", "Person 1", "Person 2"]
    assert [g.pk for g in goldens] == list(GoldenRecord.objects.order_by("pk").values_list("pk", flat=True))
    assert BlockingKey.objects.count() == 3 and LogEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pipeline mode is PostgreSQL's")
def test_a_statement_failing_in_a_pipeline_raises_djangos_error_and_writes_nothing():
    stored = golden()
    stored.save()
    with pytest.raises(IntegrityError), transaction.atomic(), pipelined():
        bulk_insert([golden("Not kept")])
        bulk_insert_rows(
            BlockingKey, [{"golden_id": stored.pk, "entity": "customer", "key": "same"}] * 2
        )  # unique (golden, key)
        # nothing reads a result after it: the error is found when the block ends
    assert not BlockingKey.objects.exists()
    assert not GoldenRecord.objects.filter(display_name="Not kept").exists()
