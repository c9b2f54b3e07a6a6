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
