"""Correlation ids: one per request, carried into the Celery tasks it starts, with the actor."""

import pytest
from auditlog.cid import correlation_id
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.urls import reverse

from audit import correlation
from audit.context import acting_as
from audit.models import AuditSeal
from conftest import wait_for
from integrations.models import System
from integrations.tests.factories import SystemFactory
from masterdata.choices import JobStatus
from masterdata.models import GoldenRecord, ImportJob

ADD_SYSTEM = reverse("integrations:system_add")
SYSTEM = {"name": "ERP", "kind": "erp", "environment": "sandbox"}


@pytest.mark.django_db
def test_a_request_gets_a_cid_its_entries_carry_and_its_response_names(client_for, personas):
    response = client_for(personas["engineer"]).post(ADD_SYSTEM, SYSTEM)
    cid = response["X-Correlation-ID"]
    entry = LogEntry.objects.get_for_object(System.objects.get(name="ERP")).get()
    assert len(cid) == 32 and entry.cid == cid


@pytest.mark.django_db
def test_two_requests_get_different_cids(client_for, personas):
    client = client_for(personas["engineer"])
    assert client.get("/").get("X-Correlation-ID") != client.get("/").get("X-Correlation-ID")


@pytest.mark.django_db
@pytest.mark.parametrize(("behind_proxy", "kept"), [(False, False), (True, True)])
def test_a_cid_header_is_believed_only_from_our_proxy(client_for, personas, settings, behind_proxy, kept):
    settings.BEHIND_PROXY = behind_proxy
    response = client_for(personas["engineer"]).post(ADD_SYSTEM, SYSTEM, headers={"X-Correlation-ID": "lb-req-42"})
    entry = LogEntry.objects.get_for_object(System.objects.get(name="ERP")).get()
    assert (entry.cid == "lb-req-42") is kept
    assert response["X-Correlation-ID"] == entry.cid


class FakeTask:
    """What ``task_prerun`` hands over: a task whose request holds the message's headers."""

    def __init__(self, headers, root_id="root-task-id"):
        self.request = type("Request", (), {correlation.HEADER: headers, "root_id": root_id})()


@pytest.mark.django_db
def test_an_actor_is_forgotten_when_its_block_ends(personas):
    """auditlog's own set_actor leaves its context set: a message published after the block (in a
    command, or the next test in this thread) named that person, and a worker wrote their name on
    changes made for someone else."""
    with acting_as(personas["steward"]):
        with acting_as(personas["admin"], remote_addr="10.0.0.1"):
            assert correlation.current()["actor_id"] == personas["admin"].pk
        assert correlation.current()["actor_id"] == personas["steward"].pk  # the outer block's again
        SystemFactory(name="Made by the steward")
    headers = {}
    correlation.on_publish(headers=headers)
    assert headers.get(correlation.HEADER, {}).get("actor_id") is None
    system = SystemFactory(name="Made by nobody in particular")
    assert LogEntry.objects.get_for_object(system).get().actor is None


@pytest.mark.django_db
def test_publish_stamps_the_message_and_the_worker_side_restores_it(personas):
    headers = {}
    token = correlation_id.set("req-cid-1")
    try:
        with acting_as(personas["steward"], remote_addr="10.1.2.3"):
            correlation.on_publish(headers=headers)
    finally:
        correlation_id.reset(token)
    stamped = {"cid": "req-cid-1", "actor_id": personas["steward"].pk, "remote_addr": "10.1.2.3"}
    assert headers[correlation.HEADER] == stamped

    correlation.on_task_start(task_id="t1", task=FakeTask(headers[correlation.HEADER]))
    try:
        system = SystemFactory(name="Written by a worker")
        nested = {}
        correlation.on_publish(headers=nested)  # a task started by this task carries the same context
    finally:
        correlation.on_task_end(task_id="t1")
    entry = LogEntry.objects.get_for_object(system).get()
    assert (entry.actor, entry.cid, entry.remote_addr) == (personas["steward"], "req-cid-1", "10.1.2.3")
    assert nested[correlation.HEADER]["cid"] == "req-cid-1"

    after = SystemFactory(name="After the task")  # the context ended with the task
    entry = LogEntry.objects.get_for_object(after).get()
    assert (entry.actor, entry.cid) == (None, None)


@pytest.mark.django_db
def test_a_task_nobody_caused_is_named_by_its_root_task(personas):
    correlation.on_task_start(task_id="t2", task=FakeTask(None, root_id="beat-root-7"))
    try:
        system = SystemFactory(name="Scheduled")
    finally:
        correlation.on_task_end(task_id="t2")
    entry = LogEntry.objects.get_for_object(system).get()
    assert (entry.actor, entry.cid) == (None, "beat-root-7")


CSV = "id,first_name,last_name,email\n1,Anna,Müller,anna@example.com\n2,Bob,Stone,bob@example.com\n"


@pytest.mark.worker
def test_a_worker_writes_the_import_under_the_requests_cid_and_actor_and_seals_it(start_worker, client_for, personas):
    worker = start_worker("default")  # imports and the sealer both run on the default queue
    system = SystemFactory(name="Legacy CRM")
    upload = SimpleUploadedFile("customers.csv", CSV.encode(), content_type="text/csv")
    data = {"system": system.pk, "entity": "customer", "locale": "en_US", "file": upload}
    response = client_for(personas["steward"]).post(reverse("masterdata:import"), data)
    assert response.status_code == 302
    cid = response["X-Correlation-ID"]

    def finished():
        connections.close_all()
        return ImportJob.objects.filter(status__in=[JobStatus.DONE, JobStatus.FAILED]).first()

    job = wait_for(finished, timeout=60, message=f"the import (worker log: {worker.log_path})")
    assert job.status == JobStatus.DONE, job.error
    assert GoldenRecord.objects.count() == 2
    written = LogEntry.objects.filter(content_type__model__in=["goldenrecord", "sourcerecord"])
    assert written.count() >= 4
    assert set(written.values_list("cid", "actor")) == {(cid, personas["steward"].pk)}
    # The job's outcome, written with QuerySet.update by the worker, is in the trail too.
    done = LogEntry.objects.get_for_object(job).filter(action=LogEntry.Action.UPDATE).get()
    assert done.changes["status"] == [JobStatus.RUNNING, JobStatus.DONE] and done.cid == cid

    def sealed():
        connections.close_all()
        return AuditSeal.objects.filter(entry_id=done.pk).exists()

    wait_for(sealed, timeout=30, message=f"the worker to seal the new entries (log: {worker.log_path})")
