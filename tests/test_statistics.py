"""config.statistics.refresh_grown: a table a load grew is analyzed, and its lookups are planned for its size."""

import os

import pytest
from django.db import connection, connections, transaction

from config.statistics import MINIMUM_ROWS, refresh_grown
from integrations.tests.factories import SystemFactory
from masterdata.models import SourceRecord

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]  # ANALYZE sees committed rows


@pytest.fixture(autouse=True)
def emptied_and_analyzed():
    """Statistics of the empty table, as a new installation has: earlier tests' rows are gone but
    their counts would stay, and the counts decide what is analyzed."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE masterdata_sourcerecord")
    flush_counts()


def analyses(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = %s", [table])
        return cursor.fetchone()[0]


def flush_counts() -> None:
    """This connection's counts of written rows into the shared view now (they go at most once a second)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT 1")  # the flush happens when the connection goes idle after a statement


def load_sources(system, count: int, start: int = 0) -> None:
    SourceRecord.objects.bulk_create(
        SourceRecord(system=system, entity="customer", external_id=f"C-{n}", payload={"n": n}, payload_hash=str(n))
        for n in range(start, start + count)
    )


def lookup_plan(system) -> dict:
    """How PostgreSQL reads a page's source records by their ids (``Page._load_sources``)."""
    ids = [f"C-{n}" for n in range(0, 100, 2)]
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (FORMAT JSON) SELECT id FROM masterdata_sourcerecord"
            " WHERE external_id = ANY(%s) AND entity = 'customer' AND system_id = %s",
            [ids, system.pk],
        )
        return cursor.fetchone()[0][0]["Plan"]  # psycopg decodes the JSON


def test_a_table_grown_past_its_statistics_is_analyzed_once_per_doubling():
    system = SystemFactory()
    load_sources(system, MINIMUM_ROWS + 200)
    flush_counts()
    before = analyses("masterdata_sourcerecord")

    assert refresh_grown([SourceRecord]) == ["masterdata_sourcerecord"]
    assert analyses("masterdata_sourcerecord") == before + 1

    load_sources(system, 300, start=MINIMUM_ROWS + 200)  # a quarter more: not yet a doubling
    flush_counts()
    assert refresh_grown([SourceRecord]) == []
    load_sources(system, MINIMUM_ROWS, start=MINIMUM_ROWS + 500)  # past twice what was analyzed
    flush_counts()
    assert refresh_grown([SourceRecord]) == ["masterdata_sourcerecord"]
    assert analyses("masterdata_sourcerecord") == before + 2


def test_after_the_refresh_a_page_reads_only_its_own_source_records():
    """Analyzed while empty (or never), the table looks tiny to the planner: the lookup walks every
    record of the system and filters the ids. Analyzed again, it looks each id up in the index."""
    system = SystemFactory()
    load_sources(system, 20_000)
    flush_counts()
    refresh_grown([SourceRecord])

    scan = lookup_plan(system)
    while scan.get("Plans") and "Index Cond" not in scan:
        scan = scan["Plans"][0]
    assert "external_id" in scan.get("Index Cond", ""), scan
    assert "external_id" not in scan.get("Filter", ""), scan


def test_nothing_is_analyzed_inside_a_transaction():
    load_sources(SystemFactory(), MINIMUM_ROWS + 1)
    flush_counts()
    with transaction.atomic():
        assert refresh_grown([SourceRecord]) == []  # its counts would not include this transaction's rows
    assert refresh_grown([SourceRecord]) == ["masterdata_sourcerecord"]


def test_a_table_held_by_a_vacuum_is_left_for_the_next_page():
    """``ANALYZE`` waits for a VACUUM (or another analysis) of the table: a load does not stall
    behind it, it tries again after its next page."""
    load_sources(SystemFactory(), MINIMUM_ROWS + 1)
    flush_counts()
    other = connections.create_connection("default")  # another session holding what VACUUM holds
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("LOCK TABLE masterdata_sourcerecord IN SHARE UPDATE EXCLUSIVE MODE")
            assert refresh_grown([SourceRecord]) == []
            cursor.execute("ROLLBACK")
    finally:
        other.close()
    assert refresh_grown([SourceRecord]) == ["masterdata_sourcerecord"]


def test_a_role_that_does_not_own_the_table_leaves_it_to_autovacuum():
    """A least-privilege role that may write rows but not analyze them: nothing is tried."""
    load_sources(SystemFactory(), MINIMUM_ROWS + 1)
    flush_counts()
    role = f"junction_writer_only_{os.getpid()}"  # roles are the server's, not the database's
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role}")
        cursor.execute(f"GRANT SELECT ON masterdata_sourcerecord TO {role}")
        cursor.execute(f"SET ROLE {role}")
        try:
            assert refresh_grown([SourceRecord]) == []
        finally:
            cursor.execute("RESET ROLE")
            cursor.execute(f"REVOKE ALL ON masterdata_sourcerecord FROM {role}")
            cursor.execute(f"DROP ROLE {role}")
    assert refresh_grown([SourceRecord]) == ["masterdata_sourcerecord"]  # the owner may
