"""An extraction keeps the planner's statistics of the tables it grows (config.statistics)."""

import sqlite3

import pytest
from django.db import connection

from integrations.choices import Stage, Trigger
from integrations.engine import actions, pipeline
from integrations.models import Connector, Flow, RecordOutcome
from integrations.tests.factories import SystemFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]  # pages commit as in a worker


def stock_flow(path, rows: int) -> Flow:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE stock (id TEXT PRIMARY KEY, sku TEXT, qty INTEGER, updated_at TEXT)")
        db.executemany(
            "INSERT INTO stock VALUES (?, ?, ?, ?)", ((f"S{n:05d}", "SKU-1", n, f"{n:05d}") for n in range(rows))
        )
    settings = {"table": "stock", "id_column": "id", "watermark_column": "updated_at", "write_table": "stock"}
    source = Connector.objects.create(
        system=SystemFactory(name="WMS"),
        name="WMS stock",
        adapter="sql",
        settings={"dialect": "sqlite", "path": str(path), "entities": {"inventory_level": settings}},
    )
    flow = Flow.objects.create(
        name="Stock levels",
        entity="inventory_level",
        source=source,
        trigger=Trigger.MANUAL,
        stage=Stage.LIVE,
        batch_size=500,
        mapping=[{"target": c, "op": "copy", "from": c} for c in ("id", "sku", "qty")],
    )
    flow.targets.add(source)
    return flow


def planned_rows(table: str) -> float:
    """What the planner believes the table holds (-1: never analyzed; 0: analyzed empty)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        return cursor.fetchone()[0]


def test_a_first_load_leaves_the_outcome_table_analyzed_at_its_size(tmp_path):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE integrations_recordoutcome")  # empty, as in a new installation
    assert planned_rows("integrations_recordoutcome") == 0

    run = actions.start_run(stock_flow(tmp_path / "wms.sqlite3", rows=3_000))
    pipeline.extract(pipeline.take_extraction(run.pk))

    assert RecordOutcome.objects.filter(run=run).count() == 3_000
    # Analyzed during the load, once its rows (as the connection's counts showed them a page
    # late) passed 1,000: the planner no longer takes it for empty.
    assert planned_rows("integrations_recordoutcome") >= 1_000
