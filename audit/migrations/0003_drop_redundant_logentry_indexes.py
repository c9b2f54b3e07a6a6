"""Drop auditlog's single-column indexes that 0002's composite indexes already serve.

Every audit entry inserted updated 14 indexes. auditlog indexes timestamp,
action, actor and content type on their own; 0002's indexes start with each
of them ((timestamp, id), (action, timestamp), (actor_id, timestamp),
(content_type_id, object_pk)), so a query on the column alone uses those.
object_pk is looked up with its content type (auditlog's history of an
object; the search's ``object_pk = x OR object_repr ILIKE`` scans anyway).
The ``varchar_pattern_ops`` copies of object_pk and cid serve only ``LIKE
'prefix%'``, which nothing sends. object_id and cid keep their own indexes:
no composite starts with them.

Found by introspection, not by name: the names are auditlog's migrations'
hashes. The reverse builds them again under the names Django gives them.
"""

from django.db import migrations

TABLE = "auditlog_logentry"
COVERED = ("timestamp", "action", "actor_id", "content_type_id", "object_pk")  # every index on these alone
PATTERN_ONLY = ("cid",)  # only the LIKE copy


def _redundant(schema_editor) -> list[str]:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)
    names = []
    for name, info in constraints.items():
        if not info["index"] or info["primary_key"] or info["unique"] or not name.startswith(f"{TABLE}_"):
            continue
        columns = info["columns"]
        if len(columns) != 1:
            continue
        if columns[0] in COVERED or (columns[0] in PATTERN_ONLY and name.endswith("_like")):
            names.append(name)
    return names


def forwards(apps, schema_editor):
    for name in _redundant(schema_editor):
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def backwards(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for column in COVERED:
        name = schema_editor._create_index_name(TABLE, [column])
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} ({schema_editor.quote_name(column)})")
    for column in ("object_pk", *PATTERN_ONLY) if postgres else ():
        name = schema_editor._create_index_name(TABLE, [column], suffix="_like")
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} ({column} varchar_pattern_ops)")


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_queue_trigger_and_indexes")]

    operations = [migrations.RunPython(forwards, backwards)]
