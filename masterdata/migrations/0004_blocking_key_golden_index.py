"""Blocking keys: drop the golden record's own index, which the unique (golden, key) already serves."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("masterdata", "0003_import_progressed"),
    ]

    operations = [
        migrations.AlterField(
            model_name="blockingkey",
            name="golden",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="blocking_keys",
                to="masterdata.goldenrecord",
            ),
        ),
    ]
