"""masterdata 0006: stored blocking keys learn their golden record's entity; keys of records merged
away (if any survived from before merges removed them) go."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("masterdata", "0005_blocking_key_rank")]
AFTER = [("masterdata", "0006_blocking_key_entity")]


@pytest.mark.django_db(transaction=True)  # a migration runs outside a test's transaction
def test_keys_get_their_golden_records_entity_and_merged_records_lose_theirs():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Golden, Key = old.get_model("masterdata", "GoldenRecord"), old.get_model("masterdata", "BlockingKey")
    anna = Golden.objects.create(entity="customer", display_name="Anna", values={}, lineage={})
    acme = Golden.objects.create(entity="supplier", display_name="Acme", values={}, lineage={})
    gone = Golden.objects.create(entity="customer", display_name="Ann", values={}, lineage={}, merged_into=anna)
    for golden in (anna, acme, gone):
        Key.objects.create(golden=golden, key="e:same@example.org", rank=b"r")
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps
        rows = new.get_model("masterdata", "BlockingKey").objects.values_list("golden_id", "entity", "key", "rank")
        assert {(g, e, k, bytes(r)) for g, e, k, r in rows} == {
            (anna.pk, "customer", "e:same@example.org", b"r"),
            (acme.pk, "supplier", "e:same@example.org", b"r"),
        }
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())  # the rest of the suite runs on the latest schema
