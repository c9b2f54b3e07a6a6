"""Blocking keys learn their golden record's place in the block, so a new record meets its nearest holders."""

from django.db import migrations, models

CHUNK = 2000


def rank_existing_keys(apps, schema_editor):
    """Every stored key gets its golden record's sort position (``matching.sort_positions`` of today:
    ranks are derived data, so the current definition is the right one)."""
    from masterdata.matching import sort_positions

    GoldenRecord = apps.get_model("masterdata", "GoldenRecord")
    BlockingKey = apps.get_model("masterdata", "BlockingKey")
    goldens = GoldenRecord.objects.filter(blocking_keys__isnull=False).distinct().order_by("pk")
    rows = goldens.values_list("pk", "entity", "values")
    batch = []
    for row in rows.iterator(chunk_size=CHUNK):
        batch.append(row)
        if len(batch) == CHUNK:
            _rank(BlockingKey, batch, sort_positions)
            batch = []
    _rank(BlockingKey, batch, sort_positions)


def _rank(BlockingKey, rows, sort_positions):
    for pk, entity, values in rows:
        (rank,) = sort_positions(entity, [values])
        BlockingKey.objects.filter(golden_id=pk).update(rank=rank)


class Migration(migrations.Migration):
    dependencies = [
        ("masterdata", "0004_blocking_key_golden_index"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="blockingkey",
            name="blocking_key_lookup",
        ),
        migrations.AddField(
            model_name="blockingkey",
            name="rank",
            field=models.BinaryField(default=b""),
        ),
        migrations.RunPython(rank_existing_keys, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="blockingkey",
            index=models.Index(fields=["key", "rank", "golden"], name="blocking_key_window"),
        ),
    ]
