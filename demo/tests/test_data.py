"""The demo's made-up world: the same every time, and dirty where the tour needs it to be."""

from collections import Counter

import pytest

from demo import data
from integrations.tests.factories import SystemFactory
from masterdata.choices import IngestResult
from masterdata.services.ingest import ingest


def test_the_world_is_the_same_for_the_same_seed():
    assert data.crm_rows(data.build()) == data.crm_rows(data.build())
    assert data.crm_rows(data.build(1)) != data.crm_rows(data.build(2))


def test_every_product_has_a_valid_gtin():
    from stdnum import ean

    products = data.build().products
    assert len({p.sku for p in products}) == len(products)
    assert all(ean.is_valid(p.gtin) and len(p.gtin) == 13 for p in products)


@pytest.mark.django_db
def test_the_crm_export_gives_the_steward_work_and_quarantines_only_the_broken_rows():
    crm = SystemFactory(name="CRM")
    rows = data.crm_rows(data.build())
    results: dict[str, str] = {}
    reasons: dict[str, str] = {}
    for row in rows:
        outcome = ingest(crm, "customer", row["id"], row, locale="de_DE")
        results[row["id"]] = outcome.result
        if outcome.result == IngestResult.QUARANTINED:
            reasons[row["id"]] = str(outcome.source.errors)

    counts = Counter(results.values())
    assert set(reasons) == {"CRM-BAD-1", "CRM-BAD-2", "CRM-BAD-3"}, reasons
    assert "email" in reasons["CRM-BAD-1"] and "date_of_birth" in reasons["CRM-BAD-2"]
    assert "country" in reasons["CRM-BAD-3"]
    # The retyped customers are found: linked automatically where sure, sent to review where not.
    assert counts[IngestResult.LINKED] + counts[IngestResult.REVIEW] >= 10, counts
    assert counts[IngestResult.REVIEW] >= 1, counts  # the steward's queue is not empty
    assert counts[IngestResult.CREATED] >= 120, counts  # households and walk-in accounts stay apart
