"""Queue every new audit entry for sealing, and index what the auditor's page filters on.

A trigger, not a Django signal: ``bulk_create`` and raw inserts fire no
signal, and an entry missed by the queue would stay outside the chain.
PostgreSQL uses a statement-level trigger over the inserted rows, so a bulk
insert queues its entries with one INSERT.

auditlog indexes timestamp, action, actor, cid and object_pk on their own;
the page combines them with an order by time, so these composite indexes
serve its filters without sorting the whole table.
"""

from django.db import migrations

INDEXES = {
    "audit_logentry_time_id": "(timestamp, id)",
    "audit_logentry_object": "(content_type_id, object_pk)",
    "audit_logentry_actor_time": "(actor_id, timestamp)",
    "audit_logentry_action_time": "(action, timestamp)",
}
PG_INDEXES = {
    # Access events are filtered by name (audit/filtersets.py): a prefix match on the event key.
    "audit_logentry_event": "((additional_data ->> 'event') text_pattern_ops)",
}

PG_TRIGGER = """
CREATE OR REPLACE FUNCTION audit_queue_entries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_auditpending (entry_id) SELECT id FROM new_entries ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER audit_queue_entries AFTER INSERT ON auditlog_logentry
    REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION audit_queue_entries();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS audit_queue_entries ON auditlog_logentry;
DROP FUNCTION IF EXISTS audit_queue_entries();
"""
SQLITE_TRIGGER = """
CREATE TRIGGER audit_queue_entries AFTER INSERT ON auditlog_logentry
BEGIN INSERT OR IGNORE INTO audit_auditpending (entry_id) VALUES (NEW.id); END;
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS audit_queue_entries;"


def forwards(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    schema_editor.execute(PG_TRIGGER if postgres else SQLITE_TRIGGER)
    indexes = {**INDEXES, **(PG_INDEXES if postgres else {})}
    for name, columns in indexes.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON auditlog_logentry {columns}")
    # Entries written before this migration are queued too, so the chain starts complete.
    schema_editor.execute("INSERT INTO audit_auditpending (entry_id) SELECT id FROM auditlog_logentry")


def backwards(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    schema_editor.execute(PG_DROP if postgres else SQLITE_DROP)
    for name in {**INDEXES, **PG_INDEXES}:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
