"""The audit table's indexes: every column the trail is filtered on leads exactly one index.

auditlog indexes several columns alone that audit/0002's composite indexes
already lead; each index is written on every entry (audit/0003 drops the
copies). Read from the database itself, on SQLite and PostgreSQL alike.
"""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

FILTERED = ("timestamp", "action", "actor_id", "content_type_id", "object_id", "cid")


def indexes() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, "auditlog_logentry")
    return {name: info["columns"] for name, info in found.items() if info["index"] and not info["primary_key"]}


def test_each_filtered_column_leads_exactly_one_index():
    leading = {column: [name for name, columns in indexes().items() if columns[:1] == [column]] for column in FILTERED}
    assert {column: len(names) for column, names in leading.items()} == dict.fromkeys(FILTERED, 1), leading


def test_an_object_is_found_by_its_content_type_and_pk():
    assert ["content_type_id", "object_pk"] in indexes().values()
