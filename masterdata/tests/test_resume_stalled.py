"""Imports and rule applications that stopped moving (a lost message, a dead worker) are queued again
by beat's minutely task, and only a stalled import may be taken over by a second message.

The queued task ids are recorded by replacing ``delay`` (what is asserted is which jobs are sent
again); a real worker running an import end to end is test_import_worker.py."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.tests.factories import SystemFactory
from masterdata import tasks
from masterdata.choices import JobStatus
from masterdata.models import ImportJob, RuleApplication
from masterdata.services import imports
from masterdata.services.background import STALLED_AFTER

pytestmark = pytest.mark.django_db
CSV = "id,first_name,last_name\n1,Ada,Lovelace\n"


@pytest.fixture
def sent(monkeypatch) -> dict[str, list[int]]:
    sent = {"imports": [], "rule_applications": []}
    monkeypatch.setattr(tasks.run_import, "delay", sent["imports"].append)
    monkeypatch.setattr(tasks.apply_rules, "delay", sent["rule_applications"].append)
    return sent


def job(status=JobStatus.PENDING, **times) -> ImportJob:
    created = ImportJob.objects.create(
        system=SystemFactory(), entity="customer", filename="c.csv", content=CSV, total=1, status=status
    )
    ImportJob.objects.filter(pk=created.pk).update(**times)
    return created


def ago(minutes: int):
    return timezone.now() - timedelta(minutes=minutes)


def test_stalled_imports_and_applications_are_queued_again_and_live_ones_left_alone(sent):
    lost = job(created=ago(11))  # its message never reached a worker
    dead = job(JobStatus.RUNNING, created=ago(30), progressed=ago(11))  # its worker stopped moving
    waiting = job(created=ago(1))
    running = job(JobStatus.RUNNING, created=ago(30), progressed=ago(1))
    job(JobStatus.DONE, created=ago(30))
    stuck = RuleApplication.objects.create(entity="customer", status=JobStatus.RUNNING)
    RuleApplication.objects.filter(pk=stuck.pk).update(created=ago(40), started=ago(30), progressed=ago(11))
    moving = RuleApplication.objects.create(entity="product", status=JobStatus.RUNNING)
    RuleApplication.objects.filter(pk=moving.pk).update(created=ago(40), progressed=ago(2))

    assert tasks.resume_stalled() == {"imports": 2, "rule_applications": 1}

    assert sorted(sent["imports"]) == sorted([lost.pk, dead.pk])
    assert sent["rule_applications"] == [stuck.pk]
    assert {waiting.pk, running.pk}.isdisjoint(sent["imports"])


def test_a_running_import_is_taken_over_only_once_it_has_stalled():
    running = job(JobStatus.RUNNING, progressed=ago(1))
    assert not imports.claim(running.pk)  # its worker is on it: a second message leaves it alone
    ImportJob.objects.filter(pk=running.pk).update(progressed=timezone.now() - STALLED_AFTER - timedelta(seconds=1))
    assert imports.claim(running.pk)
    taken = ImportJob.objects.get(pk=running.pk)
    assert taken.status == JobStatus.RUNNING and taken.progressed > ago(1)


def test_a_worker_takes_a_waiting_import_and_marks_its_progress(personas):
    waiting = job()
    assert imports.claim(waiting.pk)
    assert not imports.claim(waiting.pk)  # taken a moment ago: not stalled
    imports.run_import(ImportJob.objects.get(pk=waiting.pk))
    done = ImportJob.objects.get(pk=waiting.pk)
    assert done.status == JobStatus.DONE and done.processed == 1 and done.progressed > ago(1)
