"""An extraction keeps the planner's statistics of the tables it grows (config.statistics)."""

import pytest
from django.db import connection

from conftest import planned_rows
from integrations.engine import actions, pipeline
from integrations.models import RecordOutcome
from integrations.tests.engine_world import stock_flow, stock_source

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]  # pages commit as in a worker


def test_a_first_load_leaves_the_outcome_table_analyzed_at_its_size(tmp_path):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE integrations_recordoutcome")  # empty, as in a new installation
    assert planned_rows("integrations_recordoutcome") == 0

    stock_source(tmp_path / "wms.sqlite3", 3_000)
    run = actions.start_run(stock_flow(tmp_path / "wms.sqlite3", batch_size=500))
    pipeline.extract(pipeline.take_extraction(run.pk))

    assert RecordOutcome.objects.filter(run=run).count() == 3_000
    # Analyzed during the load, once its rows (as the connection's counts showed them a page
    # late) passed 1,000: the planner no longer takes it for empty.
    assert planned_rows("integrations_recordoutcome") >= 1_000
