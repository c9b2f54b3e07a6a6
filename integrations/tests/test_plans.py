"""Statements whose plan no statistics can ruin (PostgreSQL).

A first load or a burst of webhook events gets the table analyzed while most
of its rows wait; later most are done, and a plan that walks the primary key
from the oldest row, expecting to meet a waiting one at once, reads every row
ever done first. Each statement below asks for an order only its own index
gives (a value fixed as a range of one value and put first in the order), and
each test builds exactly those statistics and reads the plan.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import api_as
from integrations.choices import OutcomeStatus, Stage
from integrations.engine import pipeline
from integrations.engine.outbox import CLAIM_SQL
from integrations.models import InboundEvent, RecordOutcome
from integrations.tests.engine_world import make_target_db, sql_connector, staged_run, webhook_connector
from integrations.tests.pages import make_flow, make_outcomes, make_run

OUTCOMES = "/api/v1/outcomes/"

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the plans are PostgreSQL's"),
]


def analyze(model) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {model._meta.db_table}")  # this transaction's rows count as live


def innermost_scan(plan: str, table: str) -> str:
    return [line for line in plan.splitlines() if "Scan" in line and table in line][-1]


def claim_plan(run, target) -> str:
    """The scan PostgreSQL's plan for the next claim makes (EXPLAIN, nothing claimed)."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {CLAIM_SQL}", [now, run.pk, "pending", "pending", target.pk, now, now, 500])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return innermost_scan(plan, RecordOutcome._meta.db_table)


def test_a_claim_reads_the_waiting_rows_whatever_the_statistics_say(tmp_path):
    """With ``status = %s ORDER BY id`` this plan walked the primary key from the run's first row."""
    target = sql_connector(make_target_db(tmp_path / "target.sqlite3"))
    run = staged_run(target, [{"id": "C-0", "first_name": "Ada", "last_name": "Lovelace"}])
    RecordOutcome.objects.bulk_create(
        RecordOutcome(
            run=run, flow=run.flow, target=target, external_id=f"C-{n}", idempotency_key=f"{n:064d}", payload={}
        )
        for n in range(1, 20_000)
    )
    analyze(RecordOutcome)
    RecordOutcome.objects.filter(run=run, pk__lt=RecordOutcome.objects.order_by("-pk")[100].pk).update(
        status="delivered"
    )

    assert "outcome_run_status" in claim_plan(run, target)
    assert len(pipeline.claim(run.pk, target.pk, 500)) == 101


def test_waiting_webhook_events_are_read_from_their_index_whatever_the_statistics_say(tmp_path):
    """With ``connector = x ORDER BY id`` this plan walked the primary key from the first event ever."""
    taker = staged_run(sql_connector(make_target_db(tmp_path / "target.sqlite3")), [])  # a run that took events
    connector = webhook_connector("Busy shop")
    InboundEvent.objects.bulk_create(
        InboundEvent(connector=connector, event_id=f"e-{n}", records=[{"id": n}]) for n in range(20_000)
    )
    analyze(InboundEvent)
    oldest_waiting = InboundEvent.objects.filter(connector=connector).order_by("-pk")[100].pk
    InboundEvent.objects.filter(connector=connector, pk__lt=oldest_waiting).update(run=taker)

    page = pipeline.waiting_events(connector.pk).select_for_update(skip_locked=True)[:50]
    assert "inbound_pending" in innermost_scan(page.explain(), InboundEvent._meta.db_table)
    first = pipeline.waiting_events(connector.pk).values_list("pk", flat=True)[:1]  # "any waiting?" of a push
    assert "inbound_pending" in innermost_scan(first.explain(), InboundEvent._meta.db_table)
    assert [event.pk for event in page] == list(
        InboundEvent.objects.filter(pk__gte=oldest_waiting).order_by("pk").values_list("pk", flat=True)[:50]
    )


def page_scan(client, url, **params) -> str:
    """The scan of the outcome table in the plan of a page's own query."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    sql = [q["sql"] for q in captured.captured_queries if "ORDER BY" in q["sql"] and "recordoutcome" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql[-1]}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return innermost_scan(plan, RecordOutcome._meta.db_table)


def test_a_run_page_reads_its_own_rows_whatever_the_statistics_say(client_for, personas):
    """An older run's 20,000 delivered records, then this run's: with ``status = %s ORDER BY id`` the
    "Quarantined" tab (and the API's ``?run=&status=``) walked the primary key through the older run first."""
    flow = make_flow(stage=Stage.LIVE)
    older, run = make_run(flow), make_run(flow)
    make_outcomes(older, 20_000, status=OutcomeStatus.DELIVERED)
    for status in (OutcomeStatus.DELIVERED, OutcomeStatus.QUARANTINED) * 10:
        make_outcomes(run, 1_000, status=status)
    analyze(RecordOutcome)
    client = client_for(personas["admin"])

    assert "outcome_run_status" in page_scan(client, run.get_absolute_url(), status="quarantined")
    assert "outcome_run_keyset" in page_scan(client, run.get_absolute_url())
    # The API's pages of a run's records, the same way.
    api = api_as(personas["admin"])
    assert "outcome_run_status" in page_scan(api, OUTCOMES, run=run.pk, status="quarantined")
    assert "outcome_run_keyset" in page_scan(api, OUTCOMES, run=run.pk)
