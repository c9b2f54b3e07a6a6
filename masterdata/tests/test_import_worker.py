"""A CSV import runs on a real Celery worker process, end to end."""

import pytest
from auditlog.models import LogEntry
from django.db import connections

from conftest import wait_for
from integrations.tests.factories import SystemFactory
from masterdata.choices import JobStatus
from masterdata.models import GoldenRecord, ImportJob
from masterdata.services.imports import start_import

pytestmark = pytest.mark.worker

CSV = """id,first_name,last_name,email,phone,country,date_of_birth
1,Anna,Müller,anna@example.com,030 1234567,DE,04.03.1985
2,Anna,Müller,ANNA@example.com,+49 30 1234567,Germany,1985-03-04
3,Bob,Stone,not-an-email,,US,1990-01-01
4,Chloé,Martin,chloe@example.fr,01 23 45 67 89,France,
"""


def test_import_is_ingested_by_a_worker_with_progress_and_summary(start_worker, personas):
    worker = start_worker("default")
    system = SystemFactory(name="Legacy CRM")
    job = start_import(
        system=system,
        entity="customer",
        locale="de_DE",
        filename="customers.csv",
        content=CSV,
        user=personas["steward"],
    )

    def finished():
        connections.close_all()
        return ImportJob.objects.filter(pk=job.pk, status__in=[JobStatus.DONE, JobStatus.FAILED]).first()

    done = wait_for(finished, timeout=60, message=f"the import to finish (worker log: {worker.log_path})")
    assert done.status == JobStatus.DONE, done.error
    assert done.processed == done.total == 4
    assert done.counts["created"] == 2 and done.counts["linked"] == 1 and done.counts["quarantined"] == 1
    assert done.problems[0]["external_id"] == "3" and "email" in done.problems[0]["reason"]
    assert GoldenRecord.objects.count() == 2
    # The worker acted on the steward's behalf, and the trail says so.
    assert LogEntry.objects.filter(actor=personas["steward"], content_type__model="goldenrecord").exists()
