"""A long CSV import keeps the planner's statistics of the tables it grows (config.statistics)."""

import pytest
from django.db import connection

from conftest import planned_rows
from integrations.tests.factories import SystemFactory
from masterdata.models import ImportJob, SourceRecord
from masterdata.services.imports import run_import, start_import

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]  # pages commit as in a worker


def test_an_import_leaves_the_source_records_analyzed_at_their_size(personas):
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {SourceRecord._meta.db_table}")  # empty, as in a new installation
    assert planned_rows(SourceRecord._meta.db_table) == 0
    rows = "\n".join(f"{n},Person{n},Family{n},p{n}@example.com,DE" for n in range(1_400))
    job = start_import(
        system=SystemFactory(name="Legacy CRM"),
        entity="customer",
        locale="de_DE",
        filename="customers.csv",
        content=f"id,first_name,last_name,email,country\n{rows}\n",
        user=personas["steward"],
    )

    run_import(ImportJob.objects.get(pk=job.pk))

    assert SourceRecord.objects.count() == 1_400
    # Analyzed during the import, once its rows (as the counts showed them a page late) passed 1,000.
    assert planned_rows(SourceRecord._meta.db_table) >= 1_000
