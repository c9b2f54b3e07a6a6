"""Cheaper writes of outcome rows (the outbox): fewer indexes, and room for in-place updates.

Every outcome row is written three times: staged, claimed (lease and attempts)
and done. The run and flow foreign keys lose their single-column indexes, which
the composite indexes starting with them already serve. On PostgreSQL the table
keeps 30% of each page free (fillfactor 70), so a claim, which changes no indexed
column, is a HOT update that writes no index entry at all (a fifth of the time
of a claim measured on 500 rows).
"""

import django.db.models.deletion
from django.db import migrations, models


def set_fillfactor(percent: int):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE integrations_recordoutcome SET (fillfactor = {int(percent)})")

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0002_connectors_flows_runs"),
    ]

    operations = [
        migrations.AlterField(
            model_name="recordoutcome",
            name="flow",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="outcomes",
                to="integrations.flow",
            ),
        ),
        migrations.AlterField(
            model_name="recordoutcome",
            name="run",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="outcomes",
                to="integrations.run",
            ),
        ),
        migrations.RunPython(set_fillfactor(70), set_fillfactor(100), elidable=False),
    ]
