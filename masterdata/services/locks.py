"""One writer at a time per entity's master data, across every worker and web process.

Two sources sending the same new customer at the same moment would each see
no golden record (neither has committed) and each create one; a steward's
merge committing while an ingest reads would leave a record linked to a
golden record just merged away. Ingest, merge and unmerge therefore take the
entity's lock first and keep it until their transaction ends. Reads never
wait for it.

PostgreSQL: a transaction-level advisory lock. SQLite needs none: a writing
transaction already holds the database's only write lock.
"""

import zlib

from django.db import connection

NAMESPACE = 0x4A4D44  # "JMD": the first key of the two-key form, apart from other advisory locks


def lock_entity(entity: str) -> None:
    """Wait for, then hold until the end of the current transaction, ``entity``'s master-data lock."""
    if connection.vendor != "postgresql":
        return
    if not connection.in_atomic_block:
        raise RuntimeError("lock_entity needs a transaction: the lock ends with it")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [NAMESPACE, zlib.crc32(entity.encode()) & 0x7FFFFFFF])
