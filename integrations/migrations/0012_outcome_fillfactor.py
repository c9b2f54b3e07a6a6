"""Room in each page of the outcome table for the row versions claims write.

A claim sets a row's lease and attempts, neither of them indexed, so PostgreSQL
can write the new version as a HOT update (beside the old one, no index touched)
if the page has room. Filled to 100 %, most pages had none: a claim then added
an entry to each of the table's indexes. Half-filled pages take a whole
batch's claims, and the table ends smaller, not larger, since pruned HOT chains
free their space (bench/README.md, "Outcome table fill factor").
"""

from django.db import migrations

TABLE = "integrations_recordoutcome"


def fillfactor(value: int):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":  # SQLite has no such setting
            schema_editor.execute(f"ALTER TABLE {TABLE} SET (fillfactor = {value})")

    return apply


class Migration(migrations.Migration):
    dependencies = [("integrations", "0011_target_change_rule_application")]

    operations = [migrations.RunPython(fillfactor(50), fillfactor(100))]
