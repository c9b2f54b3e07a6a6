"""Two writers of one entity's master data at the same moment: the second waits for the first.

Without the entity lock, two sources sending the same new customer at once
each find no golden record (neither has committed) and each create one.
"""

import threading
import time

import pytest
from django.db import connection, transaction

from integrations.tests.factories import SystemFactory
from masterdata.models import GoldenRecord, SourceRecord
from masterdata.services.ingest import ingest
from masterdata.services.ingest_batch import ingest_many

from .test_ingest_batch import ANNA

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def waiting_on_advisory_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.parametrize("second_path", ["ingest", "ingest_many"])
def test_the_same_new_customer_from_two_sources_at_once_makes_one_golden_record(second_path):
    crm, shop = SystemFactory(name="CRM"), SystemFactory(name="Shop")
    first_ingested, first_may_commit = threading.Event(), threading.Event()
    errors = []

    def first():
        try:
            with transaction.atomic():
                ingest_many(crm, "customer", [("C-1", ANNA)])
                first_ingested.set()
                first_may_commit.wait(30)  # the golden record exists, not committed yet
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    def second():
        try:
            if second_path == "ingest":
                ingest(shop, "customer", "S-9", {**ANNA, "phone": ""})
            else:
                ingest_many(shop, "customer", [("S-9", {**ANNA, "phone": ""})])
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    a = threading.Thread(target=first)
    a.start()
    assert first_ingested.wait(30)
    b = threading.Thread(target=second)
    b.start()
    deadline = time.monotonic() + 15
    while b.is_alive() and not waiting_on_advisory_lock() and time.monotonic() < deadline:
        time.sleep(0.05)
    second_waited = b.is_alive()  # without the lock it has finished (and created its own golden record)
    first_may_commit.set()
    a.join(30)
    b.join(30)

    assert not errors
    assert second_waited
    goldens = set(SourceRecord.objects.values_list("golden_id", flat=True))
    assert len(goldens) == 1
    assert GoldenRecord.objects.count() == 1
