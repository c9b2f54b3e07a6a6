"""A merge plans archives at the targets that hold the merged-away record, and only where the
adapter can archive; a target that is away is tried again with growing pauses, then given up.
(The archive itself, in a real Tryton, is in test_tryton_flows.py.)"""

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.engine import archives
from integrations.models import Connector, Delivery, TargetArchive
from integrations.tests.factories import SystemFactory
from integrations.tests.pages import rest_connector
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


def delivered(target, golden, code: str) -> None:
    payload = {"code": code, "name": "Ada Lovelace"}
    Delivery.objects.create(
        target=target, entity="customer", subject=f"golden:{golden.pk}", remote_id=code, last_key="k", payload=payload
    )


def test_only_targets_that_can_archive_get_an_archive(django_capture_on_commit_callbacks):
    survivor, absorbed, _ = customer_pair()
    erp, shop = tryton_away(), rest_connector("Shop API")
    delivered(erp, absorbed, "C-2")
    delivered(shop, absorbed, "C-2")
    delivered(erp, survivor, "C-1")  # the survivor's own copy stays as it is

    with django_capture_on_commit_callbacks() as queued:
        record = merge(survivor, absorbed)

    [row] = TargetArchive.objects.all()
    assert (row.merge, row.target, row.action, row.remote_id, row.status) == (record, erp, "archive", "C-2", "pending")
    assert row.payload == {"code": "C-2", "name": "Ada Lovelace"}
    assert len(queued) == 1


def test_a_merge_nobody_received_plans_nothing(django_capture_on_commit_callbacks):
    survivor, absorbed, _ = customer_pair()
    with django_capture_on_commit_callbacks() as queued:
        merge(survivor, absorbed)
    assert not TargetArchive.objects.exists() and queued == []


def test_an_unreachable_target_is_tried_again_later_then_given_up(monkeypatch):
    survivor, absorbed, _ = customer_pair()
    delivered(tryton_away(), absorbed, "C-2")
    record = merge(survivor, absorbed)

    assert archives.perform(record.pk) == 1
    row = TargetArchive.objects.get()
    assert row.status == "pending" and row.attempts == 1
    assert row.error.startswith("Will try again: ") and "127.0.0.1" in row.error
    assert timedelta(seconds=14) < row.next_attempt_at - timezone.now() <= timedelta(seconds=15)
    assert archives.perform(record.pk) == 1 and TargetArchive.objects.get().attempts == 1  # not due yet
    assert archives.due_merges(timezone.now()) == []
    assert archives.due_merges(row.next_attempt_at) == [record.pk]

    monkeypatch.setattr(archives, "ATTEMPTS", 2)
    TargetArchive.objects.update(next_attempt_at=timezone.now())
    assert archives.perform(record.pk) == 0
    row.refresh_from_db()
    assert row.status == "failed" and row.attempts == 2 and "127.0.0.1" in row.error


def test_undoing_a_merge_restores_only_what_was_archived(django_capture_on_commit_callbacks):
    survivor, absorbed, _ = customer_pair()
    erp = tryton_away()
    delivered(erp, absorbed, "C-2")
    record = merge(survivor, absorbed)
    TargetArchive.objects.update(status="done")

    with django_capture_on_commit_callbacks() as queued:
        unmerge(record)

    assert list(TargetArchive.objects.values_list("action", "status")) == [("archive", "done"), ("restore", "pending")]
    assert len(queued) == 1


def test_a_merge_whose_archive_was_lost_is_queued_again_by_the_sweeper():
    from integrations.engine.sweeper import sweep

    survivor, absorbed, _ = customer_pair()
    delivered(tryton_away(), absorbed, "C-2")
    merge(survivor, absorbed)
    assert sweep()["archives"] == 0  # just planned: its own message is on its way
    TargetArchive.objects.update(created=timezone.now() - timedelta(minutes=1))

    assert sweep()["archives"] == 1
