"""A merge plans its changes at the targets: an archive of the merged-away record where the adapter
can archive, an update of the survivor where its mapped values changed; a target that is away is
tried again with growing pauses, then given up. (Both against a real Tryton: test_tryton_flows.py.)"""

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.choices import Stage
from integrations.engine import merges
from integrations.models import Connector, Delivery, TargetChange
from integrations.tests.factories import SystemFactory
from integrations.tests.pages import make_flow, rest_connector
from masterdata.models import Merge
from masterdata.services.merge import merge, unmerge
from masterdata.tests.factories import customer_pair

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def tryton_away() -> Connector:
    connector = Connector(system=SystemFactory(), name="Tryton ERP", adapter="tryton")
    connector.settings = {"url": f"http://127.0.0.1:{closed_port()}", "database": "erp"}
    connector.set_credentials({"login": "admin", "password": "secret"})
    connector.save()
    return connector


def delivered(target, golden, code: str, flow=None, payload=None) -> None:
    payload = payload or {"code": code, "name": "Ada Lovelace"}
    Delivery.objects.create(
        target=target,
        entity="customer",
        subject=f"golden:{golden.pk}",
        remote_id=code,
        last_key="k",
        payload=payload,
        flow=flow,
        external_id="X-1",
    )


NAME_MAPPING = [
    {"target": "code", "op": "copy", "from": "golden_id"},
    {"target": "name", "op": "copy", "from": "last_name"},
    {"target": "email", "op": "copy", "from": "email"},
]


def test_only_targets_that_can_archive_get_an_archive(django_capture_on_commit_callbacks):
    survivor, absorbed, _ = customer_pair()
    erp, shop = tryton_away(), rest_connector("Shop API")
    delivered(erp, absorbed, "C-2")
    delivered(shop, absorbed, "C-2")
    delivered(erp, survivor, "C-1")  # the survivor's own copy stays as it is

    with django_capture_on_commit_callbacks() as queued:
        record = merge(survivor, absorbed)

    [row] = TargetChange.objects.all()
    assert (row.merge, row.target, row.action, row.remote_id, row.status) == (record, erp, "archive", "C-2", "pending")
    assert row.payload == {"code": "C-2", "name": "Ada Lovelace"}
    assert len(queued) == 1


def test_a_merge_nobody_received_plans_nothing(django_capture_on_commit_callbacks):
    survivor, absorbed, _ = customer_pair()
    with django_capture_on_commit_callbacks() as queued:
        merge(survivor, absorbed)
    assert not TargetChange.objects.exists() and queued == []


def test_an_unreachable_target_is_tried_again_later_then_given_up(monkeypatch):
    survivor, absorbed, _ = customer_pair()
    delivered(tryton_away(), absorbed, "C-2")
    record = merge(survivor, absorbed)

    assert merges.perform(record.pk) == 1
    row = TargetChange.objects.get()
    assert row.status == "pending" and row.attempts == 1
    assert row.error.startswith("Will try again: ") and "127.0.0.1" in row.error
    assert timedelta(seconds=14) < row.next_attempt_at - timezone.now() <= timedelta(seconds=15)
    assert merges.perform(record.pk) == 1 and TargetChange.objects.get().attempts == 1  # not due yet
    assert merges.due_merges(timezone.now()) == []
    assert merges.due_merges(row.next_attempt_at) == [record.pk]

    monkeypatch.setattr(merges, "ATTEMPTS", 2)
    TargetChange.objects.update(next_attempt_at=timezone.now())
    assert merges.perform(record.pk) == 0
    row.refresh_from_db()
    assert row.status == "failed" and row.attempts == 2 and "127.0.0.1" in row.error


def test_undoing_a_merge_restores_only_what_was_archived(django_capture_on_commit_callbacks):
    survivor, absorbed, _ = customer_pair()
    erp = tryton_away()
    delivered(erp, absorbed, "C-2")
    record = merge(survivor, absorbed)
    TargetChange.objects.update(status="done")

    with django_capture_on_commit_callbacks() as queued:
        unmerge(record)

    assert list(TargetChange.objects.values_list("action", "status")) == [("archive", "done"), ("restore", "pending")]
    assert len(queued) == 1


def test_a_merge_whose_archive_was_lost_is_queued_again_by_the_sweeper():
    from integrations.engine.sweeper import sweep

    survivor, absorbed, _ = customer_pair()
    delivered(tryton_away(), absorbed, "C-2")
    merge(survivor, absorbed)
    assert sweep()["merges"] == 0  # just planned: its own message is on its way
    TargetChange.objects.update(created=timezone.now() - timedelta(minutes=1))

    assert sweep()["merges"] == 1


def test_the_survivor_is_updated_where_its_mapped_values_changed(django_capture_on_commit_callbacks):
    survivor, absorbed, _ = customer_pair()
    erp, shop = tryton_away(), rest_connector("Shop API")
    live = make_flow("CRM to ERP", stage=Stage.LIVE, targets=[erp, shop], mapping=NAME_MAPPING)
    draft = make_flow("Draft to shop", stage=Stage.DRAFT, targets=[shop], mapping=NAME_MAPPING)
    before = {"code": survivor.pk, "name": survivor.values["last_name"], "email": ""}
    delivered(erp, survivor, "C-1", flow=live, payload=before)
    delivered(shop, survivor, "C-1", flow=draft, payload=before)  # its flow no longer delivers

    record = merge(survivor, absorbed)

    survivor.refresh_from_db()
    assert survivor.values["email"]  # the merge brought the absorbed record's email
    [update] = TargetChange.objects.filter(action="update")
    assert (update.target, update.remote_id, update.status) == (erp, "C-1", "pending")
    assert update.payload == {**before, "email": survivor.values["email"]}
    assert record.target_changes.count() == 1


def test_nothing_is_sent_when_the_survivor_maps_as_before():
    survivor, absorbed, _ = customer_pair()
    erp = tryton_away()
    live = make_flow("CRM to ERP", stage=Stage.LIVE, targets=[erp], mapping=NAME_MAPPING)
    survivor_after = merge(survivor, absorbed).survivor
    survivor_after.refresh_from_db()
    TargetChange.objects.all().delete()
    values = survivor_after.values
    same = {"code": survivor.pk, "name": values["last_name"], "email": values["email"]}
    delivered(erp, survivor_after, "C-1", flow=live, payload=same)

    assert merges.plan(Merge.objects.get()) == []


def test_a_mapping_that_fails_is_kept_as_failed_with_the_reason():
    survivor, absorbed, _ = customer_pair()
    erp = tryton_away()
    rules = [{"target": "customer", "op": "reference", "entity": "customer", "from": "external_id"}]
    live = make_flow("Broken", stage=Stage.LIVE, targets=[erp], mapping=rules)
    delivered(erp, survivor, "C-1", flow=live)

    merge(survivor, absorbed)

    [row] = TargetChange.objects.all()
    assert row.status == "failed" and row.error.startswith("Mapping: ") and "X-1" in row.error


def test_a_target_whose_adapter_is_gone_is_left_alone():
    survivor, absorbed, _ = customer_pair()
    gone = Connector.objects.create(system=SystemFactory(), name="Old ERP", adapter="uninstalled")
    delivered(gone, absorbed, "C-2")

    merge(survivor, absorbed)

    assert not TargetChange.objects.exists()


def test_the_stewards_merge_stands_when_planning_fails(monkeypatch, caplog):
    # A bug in planning is simulated here (nothing real fails this way on purpose).
    def broken(merge, *, undone=False):
        TargetChange.objects.create(merge=merge, action="archive", target=tryton_away(), entity="customer")
        raise RuntimeError("a bug")

    monkeypatch.setattr(merges, "plan", broken)
    survivor, absorbed, _ = customer_pair()

    record = merge(survivor, absorbed)

    absorbed.refresh_from_db()
    assert absorbed.merged_into == survivor and Merge.objects.filter(pk=record.pk).exists()
    assert not TargetChange.objects.exists()  # the savepoint took the half-written plan back
    assert "its changes at the targets could not be planned" in caplog.text
