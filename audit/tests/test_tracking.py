"""A created object's entry holds its own fields, not the far side of other models' relations."""

import pytest
from auditlog.models import LogEntry

from audit.bulk import bulk_insert, log_bulk_create
from audit.tracking import reverse_relations
from integrations.tests.factories import SystemFactory
from masterdata.models import GoldenRecord, SourceRecord

pytestmark = pytest.mark.django_db


def golden():
    return GoldenRecord(entity="customer", display_name="Anna Müller", values={"first_name": "Anna"}, lineage={})


def test_a_golden_records_entry_lists_its_values_and_no_related_managers():
    saved = golden()
    saved.save()  # auditlog's own receiver
    (bulk_entry,) = log_bulk_create(bulk_insert([golden()]))  # the bulk path
    assert {"source_records", "blocking_keys", "merges"} <= set(reverse_relations(GoldenRecord))
    for changes in (LogEntry.objects.get_for_object(saved).get().changes, bulk_entry.changes):
        assert {"entity", "display_name", "values", "lineage"} <= set(changes)
        assert not set(changes) & set(reverse_relations(GoldenRecord)), changes
        assert not [value for _, value in changes.values() if value.endswith(".None")]


def test_the_relation_is_recorded_on_the_side_that_stores_it():
    parent = golden()
    parent.save()
    record = SourceRecord.objects.create(
        system=SystemFactory(), entity="customer", external_id="C-1", payload={}, payload_hash="0" * 64, golden=parent
    )
    changes = LogEntry.objects.get_for_object(record).get().changes
    assert changes["golden"] == ["None", str(parent.pk)]
