"""How the outbox's rows are stored on PostgreSQL: claims that touch no index.

PostgreSQL only: fill factors and HOT updates are PostgreSQL's; on SQLite these
tests are skipped (the embedded default has neither).
"""

import pytest
from django.db import connection

from integrations.engine import pipeline
from integrations.models import RecordOutcome
from integrations.tests.engine_world import make_target_db, sql_connector, staged_run

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="fill factor and HOT updates are PostgreSQL's"),
]


def hot_updates() -> int:
    """Row updates of the outcome table in this transaction that wrote no index entry."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = %s", [RecordOutcome._meta.db_table]
        )
        return cursor.fetchone()[0]


def test_claiming_a_batch_of_staged_rows_updates_almost_no_index(tmp_path):
    customers = [
        {"id": f"C-{i}", "first_name": f"Ada{i}", "last_name": "Lovelace", "email": f"ada{i}@example.com"}
        for i in range(300)
    ]
    target = sql_connector(make_target_db(tmp_path / "target.sqlite3"))
    run = staged_run(target, customers)
    assert RecordOutcome.objects.filter(run=run).count() == 300
    before = hot_updates()

    claimed = pipeline.claim(run.pk, target.pk, 300)

    assert len(claimed) == 300
    # Nearly all: a page holding a few wider rows has room for fewer new versions. None with
    # pages filled to 100 %, the table's default.
    assert hot_updates() - before >= 0.8 * len(claimed)


def claim_plan(run, target) -> str:
    """The index PostgreSQL's plan for the next claim reads (EXPLAIN, nothing claimed)."""
    from django.utils import timezone

    from integrations.engine.outbox import CLAIM_SQL

    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {CLAIM_SQL}", [now, run.pk, "pending", "pending", target.pk, now, now, 500])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    scans = [line for line in plan.splitlines() if "Scan" in line and RecordOutcome._meta.db_table in line]
    return scans[-1]  # the innermost: the due rows' lookup


def test_a_claim_reads_the_waiting_rows_whatever_the_statistics_say(tmp_path):
    """Statistics taken while a first load's rows all waited, then most of them delivered: the
    claim still looks the waiting rows up in the run's status index, instead of walking the
    primary key from the run's first, delivered row (which the plan did with ``status = %s
    ORDER BY id``)."""
    target = sql_connector(make_target_db(tmp_path / "target.sqlite3"))
    run = staged_run(target, [{"id": "C-0", "first_name": "Ada", "last_name": "Lovelace"}])
    RecordOutcome.objects.bulk_create(
        RecordOutcome(
            run=run, flow=run.flow, target=target, external_id=f"C-{n}", idempotency_key=f"{n:064d}", payload={}
        )
        for n in range(1, 20_000)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {RecordOutcome._meta.db_table}")  # this transaction's rows count as live
    RecordOutcome.objects.filter(run=run, pk__lt=RecordOutcome.objects.order_by("-pk")[100].pk).update(
        status="delivered"
    )

    assert "outcome_run_status" in claim_plan(run, target)
    assert len(pipeline.claim(run.pk, target.pk, 500)) == 101
