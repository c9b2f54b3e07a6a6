"""Writes auditlog's signals miss: QuerySet.update through audited_update; QuerySet.delete is seen anyway."""

import pytest
from auditlog.models import LogEntry

from audit import chain
from audit.bulk_changes import audited_update
from audit.context import acting_as
from audit.verify import verify
from integrations.models import System
from integrations.tests.factories import SystemFactory

pytestmark = pytest.mark.django_db


def test_audited_update_writes_one_entry_per_changed_row_with_before_and_after(personas):
    erp, crm = SystemFactory(name="ERP", notes="a"), SystemFactory(name="CRM", notes="b")
    with acting_as(personas["admin"], remote_addr="10.9.8.7"):
        updated = audited_update(System.objects.filter(pk__in=[erp.pk, crm.pk]), notes="decommissioned")
    assert updated == 2
    assert set(System.objects.values_list("notes", flat=True)) == {"decommissioned"}
    for system, before in ((erp, "a"), (crm, "b")):
        entry = LogEntry.objects.get_for_object(system).get(action=LogEntry.Action.UPDATE)
        assert entry.changes == {"notes": [before, "decommissioned"]}
        assert entry.actor == personas["admin"] and entry.remote_addr == "10.9.8.7"


def test_audited_update_of_unchanged_rows_writes_nothing():
    system = SystemFactory(name="ERP", notes="same")
    audited_update(System.objects.filter(pk=system.pk), notes="same")
    assert not LogEntry.objects.get_for_object(system).filter(action=LogEntry.Action.UPDATE).exists()


def test_a_plain_queryset_update_is_what_auditlog_misses():
    # Why audited_update exists: the same change through QuerySet.update leaves no entry.
    system = SystemFactory(name="ERP")
    System.objects.filter(pk=system.pk).update(notes="unseen")
    assert not LogEntry.objects.get_for_object(system).filter(action=LogEntry.Action.UPDATE).exists()


def test_queryset_delete_is_recorded_per_row_by_auditlog_itself():
    systems = [SystemFactory(name=f"Old {i}") for i in range(3)]
    System.objects.filter(name__startswith="Old").delete()
    deleted = LogEntry.objects.filter(action=LogEntry.Action.DELETE, content_type__model="system")
    assert sorted(deleted.values_list("object_pk", flat=True)) == sorted(str(s.pk) for s in systems)


def test_bulk_entries_join_the_chain():
    system = SystemFactory(name="ERP")
    audited_update(System.objects.filter(pk=system.pk), notes="x")
    assert chain.seal_pending() > 0
    assert verify().ok
