"""Ingest, survivorship, merge and unmerge, through the real cleansing and matching."""

import pytest
from django.core.exceptions import ValidationError

from integrations.tests.factories import SystemFactory
from masterdata.choices import CandidateStatus, IngestResult, SourceStatus, Strategy
from masterdata.models import BlockingKey, DuplicateCandidate, GoldenRecord, Merge, SourceRecord, SurvivorshipRule
from masterdata.services.ingest import ingest
from masterdata.services.merge import mark_not_duplicate, merge, merge_candidates, unmerge
from masterdata.services.survivorship import refresh_golden

pytestmark = pytest.mark.django_db

ANNA = {
    "first_name": "anna",
    "last_name": "MÜLLER",
    "email": "Anna.Mueller@Example.com",
    "phone": "030 1234567",
    "street": "Hauptstraße 5",
    "city": "Berlin",
    "postcode": "10115",
    "country": "Germany",
    "date_of_birth": "04.03.1985",
}


@pytest.fixture
def crm():
    return SystemFactory(name="CRM")


@pytest.fixture
def shop():
    return SystemFactory(name="Shop", kind="ecommerce")


def test_new_record_creates_a_cleansed_golden_record_with_lineage(crm):
    outcome = ingest(crm, "customer", "c-1", ANNA, locale="de_DE")
    assert outcome.result == IngestResult.CREATED
    golden = outcome.golden
    assert golden.values["email"] == "anna.mueller@example.com"
    assert golden.values["phone"] == "+49301234567"
    assert golden.values["country"] == "DE"
    assert golden.values["date_of_birth"] == "1985-03-04"
    assert golden.values["last_name"] == "Müller"  # accents kept in the golden value
    assert golden.lineage["email"] == outcome.source.pk
    assert "Anna" in golden.display_name
    assert BlockingKey.objects.filter(golden=golden).exists()
    assert any(change["field"] == "email" for change in outcome.source.changes)


def test_same_payload_again_is_unchanged(crm):
    first = ingest(crm, "customer", "c-1", ANNA)
    again = ingest(crm, "customer", "c-1", dict(ANNA))
    assert again.result == IngestResult.UNCHANGED
    assert again.source.pk == first.source.pk
    assert GoldenRecord.objects.count() == 1 and SourceRecord.objects.count() == 1


def test_exact_duplicate_from_another_system_links_to_the_same_golden_record(crm, shop):
    first = ingest(crm, "customer", "c-1", ANNA)
    second = ingest(shop, "customer", "s-9", {**ANNA, "phone": "+49 30 1234567"})
    assert second.result == IngestResult.LINKED
    assert second.golden == first.golden
    assert first.golden.source_records.count() == 2


def test_invalid_record_is_quarantined_with_a_reason_never_dropped(crm):
    outcome = ingest(crm, "customer", "bad-1", {**ANNA, "email": "not-an-email", "date_of_birth": "31.02.1985"})
    assert outcome.result == IngestResult.QUARANTINED
    source = SourceRecord.objects.get(external_id="bad-1")
    assert source.status == SourceStatus.QUARANTINED and source.golden is None
    assert "email" in source.errors and "date_of_birth" in source.errors
    assert source.payload["email"] == "not-an-email"  # kept exactly as sent
    assert "email" in source.quarantine_reason


def test_a_changed_record_updates_its_golden_record(crm):
    first = ingest(crm, "customer", "c-1", ANNA)
    update = ingest(crm, "customer", "c-1", {**ANNA, "city": "Potsdam"})
    assert update.result == IngestResult.LINKED and update.golden == first.golden
    first.golden.refresh_from_db()
    assert first.golden.values["city"] == "Potsdam"


def test_survivorship_most_trusted_source(crm, shop):
    SurvivorshipRule.objects.create(
        entity="customer", field="city", strategy=Strategy.MOST_TRUSTED, trusted_systems=[crm.pk]
    )
    first = ingest(crm, "customer", "c-1", ANNA)
    ingest(shop, "customer", "s-1", {**ANNA, "city": "Berlin-Mitte"})
    golden = GoldenRecord.objects.get(pk=first.golden.pk)
    assert golden.values["city"] == "Berlin"  # the CRM is trusted more, though the shop is newer
    assert golden.lineage["city"] == first.source.pk


def two_goldens(crm, shop):
    a = ingest(crm, "customer", "c-1", ANNA).golden
    b = ingest(
        shop, "customer", "s-1", {"first_name": "Peter", "last_name": "Schmidt", "email": "p@example.org"}
    ).golden
    assert a != b
    return a, b


def test_merge_with_a_chosen_value_then_unmerge_restores_everything(crm, shop, personas):
    a, b = two_goldens(crm, shop)
    a_before = GoldenRecord.objects.get(pk=a.pk).values
    a_sources = set(a.source_records.values_list("pk", flat=True))
    b_sources = set(b.source_records.values_list("pk", flat=True))
    record = merge(a, b, {"first_name": "Annette"}, actor=personas["steward"])
    a.refresh_from_db()
    b.refresh_from_db()
    assert b.merged_into == a and a.values["first_name"] == "Annette" and a.lineage["first_name"] == "steward"
    assert set(a.source_records.values_list("pk", flat=True)) == a_sources | b_sources
    assert not BlockingKey.objects.filter(golden=b).exists()

    unmerge(record, actor=personas["steward"])
    a.refresh_from_db()
    b.refresh_from_db()
    assert b.merged_into is None and a.values == a_before
    assert set(a.source_records.values_list("pk", flat=True)) == a_sources
    assert set(b.source_records.values_list("pk", flat=True)) == b_sources
    assert BlockingKey.objects.filter(golden=b).exists()
    assert Merge.objects.get(pk=record.pk).undone_by == personas["steward"]
    with pytest.raises(ValidationError):
        unmerge(record)


def test_merge_refuses_nonsense(crm, shop):
    a, b = two_goldens(crm, shop)
    with pytest.raises(ValidationError):
        merge(a, a)
    with pytest.raises(ValidationError):
        merge(a, b, {"no_such_field": "x"})
    merge(a, b)
    with pytest.raises(ValidationError, match="already merged"):
        merge(a, b)


def test_not_a_duplicate_is_remembered(crm, shop):
    a, b = two_goldens(crm, shop)
    left, right = sorted((a, b), key=lambda g: g.pk)
    candidate = DuplicateCandidate.objects.create(entity="customer", left=left, right=right, score=0.8)
    mark_not_duplicate(candidate)
    from masterdata.services.ingest import propose

    class Pair:
        score, fields = 0.9, {}

    assert propose(a, b, Pair()) is None
    assert DuplicateCandidate.objects.get().status == CandidateStatus.NOT_DUPLICATE


def test_bulk_merge_skips_pairs_resolved_on_the_way(crm, shop):
    a, b = two_goldens(crm, shop)
    c = ingest(crm, "customer", "c-2", {"first_name": "Zoe", "last_name": "Ng", "email": "z@example.net"}).golden
    ab = DuplicateCandidate.objects.create(entity="customer", left=a, right=b, score=0.95)
    ac = DuplicateCandidate.objects.create(entity="customer", left=a, right=c, score=0.95)
    bc = DuplicateCandidate.objects.create(entity="customer", left=b, right=c, score=0.95)
    merges = merge_candidates([ab, ac, bc])
    assert len(merges) == 2  # b went into a, so b~c is superseded, not merged
    bc.refresh_from_db()
    assert bc.status == CandidateStatus.SUPERSEDED
    assert GoldenRecord.objects.active().count() == 1


def test_a_quarantined_new_version_never_leaks_into_the_golden_record(crm, shop):
    golden = ingest(shop, "customer", "s-1", {**ANNA, "email": "anna@shop.example"}, locale="de_DE").golden
    assert ingest(crm, "customer", "c-1", ANNA, locale="de_DE").golden == golden
    bad = ingest(crm, "customer", "c-1", {**ANNA, "email": "still no email"}, locale="de_DE")
    assert bad.result == IngestResult.QUARANTINED

    refresh_golden(golden)  # any later recompute (another update, a merge) must leave the rejected value out
    assert golden.values["email"] == "anna@shop.example"
