"""New flows read and write pages of 500 records (was 200): fewer pages, each with its own queries, commit
and worker tasks (master data: 276 records/s with pages of 250, 321 with 500; bench/README.md, "Shared
engines, leaner audit entries, page size"). Existing flows keep their value."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0012_outcome_fillfactor"),
    ]

    operations = [
        migrations.AlterField(
            model_name="flow",
            name="batch_size",
            field=models.PositiveIntegerField(
                default=500,
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(5000),
                ],
            ),
        ),
    ]
