"""Blocking keys carry their golden record's entity, and records merged away hold none: a block's
index walk then answers "which active records of this entity hold this key near here" alone,
without looking up each holder's golden record (a third of PostgreSQL's CPU in a master-data page
at 100,000 customers)."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def entity_of_each_key(apps, schema_editor):
    GoldenRecord = apps.get_model("masterdata", "GoldenRecord")
    BlockingKey = apps.get_model("masterdata", "BlockingKey")
    # Merges have removed the absorbed record's keys since masterdata 0001; older ones would linger.
    BlockingKey.objects.filter(golden__merged_into__isnull=False).delete()
    entity = GoldenRecord.objects.filter(pk=OuterRef("golden_id")).values("entity")[:1]
    BlockingKey.objects.update(entity=Subquery(entity))


class Migration(migrations.Migration):
    dependencies = [
        ("masterdata", "0005_blocking_key_rank"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="blockingkey",
            name="blocking_key_window",
        ),
        migrations.AddField(
            model_name="blockingkey",
            name="entity",
            field=models.CharField(
                choices=[
                    ("customer", "Customer"),
                    ("product", "Product"),
                    ("supplier", "Supplier"),
                    ("location", "Location"),
                ],
                default="",
                max_length=20,
            ),
            preserve_default=False,
        ),
        migrations.RunPython(entity_of_each_key, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="blockingkey",
            index=models.Index(fields=["entity", "key", "rank", "golden"], name="blocking_key_window"),
        ),
    ]
