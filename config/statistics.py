"""Planner statistics for the tables a bulk load grows, kept fresh as the load goes.

PostgreSQL plans from statistics that ``ANALYZE`` gathers. Autovacuum gathers
them after a table changed by a tenth of its rows, when it runs at all (it is
off on some machines) and at most once a minute; PostgreSQL's own advice for a
bulk load is to run ``ANALYZE`` afterwards. A first load into Junction grows
its tables from nothing while it runs, and without statistics the planner
guesses that "system 1, entity customer" matches one row, so a page's lookup
of 500 source records by their ids walks every record of the system (36 ms
instead of under 1 at 100,000 customers).

``refresh_grown`` analyzes each table that holds twice the rows it held when
last analyzed (and at least ``MINIMUM_ROWS``): the statistics are never more
than a doubling behind, and a load of N rows analyzes a table about
log2(N / 1,000) times, only the columns of its indexes (such an analysis does
not reset PostgreSQL's count of changes, so growth is what is compared). A
table autovacuum analyzed since is left alone.
"""

import logging
import zlib

from django.db import OperationalError, connection, transaction

log = logging.getLogger(__name__)

MINIMUM_ROWS = 1_000
LOCK_WAIT = "1s"
NAMESPACE = 0x4A5354  # "JST": the first key of the two-key advisory lock, apart from other advisory locks

# Each grown table with the columns of its indexes: what the planner chooses among. Its other
# columns (payloads, documents) would cost the analysis most of its time, sorting big values.
GROWN_SQL = (
    "SELECT s.schemaname, s.relname, array(SELECT DISTINCT a.attname::text FROM pg_index i"
    " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = s.relid"
    " ORDER BY 1) FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid"
    " WHERE s.relname = ANY(%s) AND s.n_live_tup >= greatest(%s, 2 * c.reltuples)"
    # Only its owner (or a member of the owning role) may analyze a table: a least-privilege role
    # that only reads and writes rows leaves statistics to autovacuum, without a warning per page.
    " AND pg_has_role(c.relowner, 'MEMBER')"
)


def refresh_grown(models) -> list[str]:
    """``ANALYZE`` the tables of ``models`` that grew past their statistics (see the module);
    the names of those analyzed. Call it outside the transaction that wrote the rows: the counts
    it reads are those of committed work. Other databases: nothing to do."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return []
    tables = sorted({model._meta.db_table for model in models})
    analyzed = []
    with connection.cursor() as cursor:
        cursor.execute(GROWN_SQL, [tables, MINIMUM_ROWS])
        for schema, table, columns in cursor.fetchall():
            name = f"{connection.ops.quote_name(schema)}.{connection.ops.quote_name(table)}"
            # Two workers that see the same table grown: one analyzes it, the other goes on.
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [NAMESPACE, zlib.crc32(name.encode()) & 0x7FFFFFFF])
            if not cursor.fetchone()[0]:
                continue
            try:
                indexed = ", ".join(connection.ops.quote_name(column) for column in columns)
                if _analyze(f"{name} ({indexed})" if indexed else name):
                    analyzed.append(table)
            finally:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [NAMESPACE, zlib.crc32(name.encode()) & 0x7FFFFFFF])
        if connection.pg_version >= 150000:
            # This connection's own counts reach the shared view at most once a second; asked for
            # at the next opportunity, the next call sees the pages written until then.
            cursor.execute("SELECT pg_stat_force_next_flush()")
    return analyzed


def _analyze(target: str) -> bool:
    """``ANALYZE target`` unless the table is locked by a VACUUM or another analysis for longer
    than ``LOCK_WAIT``: statistics are worth a second, not a stalled load (the next page tries
    again). The page is committed already; only the statistics wait."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
            cursor.execute(f"ANALYZE {target}")
    except OperationalError as exc:  # lock_timeout: PostgreSQL's "canceling statement due to lock timeout"
        log.info("Statistics of %s not refreshed now: %s", target, exc)
        return False
    return True
