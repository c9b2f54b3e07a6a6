"""The batch paths make exactly the decisions of the one-by-one paths they replace."""

import itertools

import pytest
from auditlog.cid import correlation_id
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.tests.factories import SystemFactory
from masterdata import cleansing, matching
from masterdata.choices import IngestResult, SourceStatus
from masterdata.models import BlockingKey, DuplicateCandidate, GoldenRecord, SourceRecord
from masterdata.services.ingest import ingest
from masterdata.services.ingest_batch import ingest_many
from masterdata.services.pair_scores import PairScores, ValueTable, blocking_keys_many
from masterdata.tests.factories import GoldenRecordFactory

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
JOHN = {
    "first_name": "John",
    "last_name": "Smith",
    "email": "john.smith@example.org",
    "phone": "+1 415 555 0100",
    "street": "1 Market St",
    "city": "San Francisco",
    "postcode": "94105",
    "country": "US",
    "date_of_birth": "1980-05-17",
}
CUSTOMERS = [
    ("C-1", ANNA),
    ("C-2", {**ANNA, "email": "anna.mueller@example.com"}),  # an exact duplicate once cleansed
    ("C-3", {**ANNA, "first_name": "Ana", "email": "", "phone": ""}),  # a typo, fewer fields
    ("C-4", {**ANNA, "first_name": "Bernd", "email": "bernd@example.com", "date_of_birth": "1.1.1950"}),  # household
    ("C-5", {"first_name": "Eve", "last_name": "Null", "email": "not-an-email", "country": "DE"}),  # quarantined
    ("C-6", {**ANNA, "last_name": "Mueller", "city": "Berlin-Mitte"}),
    ("C-7", {"first_name": "Bob", "last_name": "Stone", "email": "bob@example.com", "country": "US"}),
    ("C-8", {"first_name": "Robert", "last_name": "Stone", "email": "bob@example.com", "country": "US"}),
    ("C-9", {**ANNA, "email": "", "phone": "", "date_of_birth": ""}),  # close, not sure: a review candidate
    ("C-1", {**ANNA, "phone": "030 7654321"}),  # a new version of a record already seen
    ("C-7", {"first_name": "Bob", "last_name": "Stone", "email": "bob@example.com", "country": "US"}),  # again
    ("J-1", JOHN),
    # Namesakes: the same name, another person (other birth date, email, phone, town).
    (
        "J-2",
        {
            **JOHN,
            "email": "jsmith@example.net",
            "phone": "+1 212 555 0199",
            "date_of_birth": "1955-11-02",
            "street": "9 Broadway",
            "city": "New York",
            "postcode": "10004",
        },
    ),
    ("J-3", {**JOHN, "first_name": "Mary", "email": "mary.smith@example.org", "date_of_birth": "1982-01-09"}),  # wife
    ("J-4", {**JOHN, "first_name": "Jon", "email": "JOHN.SMITH@example.org"}),  # John again, in the same page
    ("J-5", {**JOHN, "first_name": "Jonathan", "phone": ""}),  # a nickname, same email
    ("C-5", {"first_name": "Eve", "last_name": "Null", "email": "eve@example.com", "country": "DE"}),  # fixed
    ("J-1", {**JOHN, "email": "broken@"}),  # a linked record's bad new version: quarantined, golden kept
    ("J-1", {**JOHN, "city": "SF"}),  # and good again
    ("C-2", {**ANNA, "email": "anna.mueller@example.com"}),  # unchanged re-send
    ("J-6", {**JOHN, "first_name": "Mary", "email": "mary.smith@example.org", "date_of_birth": "1982-01-09"}),
]
PRODUCTS = [
    ("P-1", {"sku": "AB-100", "name": "Steel bolt M8 x 40", "gtin": "4006381333931", "price": "0.40", "unit": "pcs"}),
    ("P-2", {"sku": "ab100", "name": "Steel Bolt M8x40", "gtin": "4006381333931", "unit": "piece"}),  # same
    ("P-3", {"sku": "AB-101", "name": "Steel bolt M8 x 50", "price": "0.45"}),  # a variant, not the same
    ("P-4", {"sku": "", "name": "No code"}),  # quarantined: the SKU is required
    ("P-1", {"sku": "AB-100", "name": "Steel bolt M8 x 40", "gtin": "4006381333931", "price": "0.42", "unit": "pcs"}),
]
SUPPLIERS = [
    ("S-1", {"name": "ACME GmbH", "tax_id": "DE123456789", "city": "Köln", "country": "DE"}),
    ("S-2", {"name": "Acme", "tax_id": "DE 123 456 789", "country": "DE", "email": "info@acme.de"}),
    ("S-3", {"name": "Acme Tools Ltd", "city": "Leeds", "country": "GB"}),
]
LOCATIONS = [
    ("L-1", {"code": "WH-01", "name": "Main warehouse", "location_type": "warehouse", "postcode": "10115"}),
    ("L-2", {"code": "wh01", "name": "Main Warehouse", "location_type": "warehouse", "postcode": "10115"}),
    ("L-3", {"code": "ST-07", "name": "Store Kreuzberg", "location_type": "store"}),
]
ENTITIES = {"customer": CUSTOMERS, "product": PRODUCTS, "supplier": SUPPLIERS, "location": LOCATIONS}


def snapshot(results) -> dict:
    """What ingest decided, without database ids: results, golden records by their sources, candidates."""
    members = {
        golden.pk: frozenset(golden.source_records.values_list("external_id", flat=True))
        for golden in GoldenRecord.objects.all()
    }
    sources = {s.pk: s.external_id for s in SourceRecord.objects.all()}
    return {
        "results": [(r.result, r.source.external_id, r.source.status, _members(r.golden, members)) for r in results],
        "goldens": {
            (
                g.entity,
                members[g.pk],
                g.display_name,
                tuple(sorted(g.values.items())),
                tuple(sorted((field, sources.get(pk, pk)) for field, pk in g.lineage.items())),
            )
            for g in GoldenRecord.objects.all()
        },
        "sources": {
            (s.entity, s.external_id, s.status, s.payload_hash, members.get(s.golden_id))
            for s in SourceRecord.objects.all()
        },
        "keys": {(members[k.golden_id], k.key, bytes(k.rank)) for k in BlockingKey.objects.all()},
        "candidates": {
            (members[c.left_id], members[c.right_id], c.score, tuple(sorted(c.fields.items())), c.status)
            for c in DuplicateCandidate.objects.all()
        },
    }


def _members(golden, members):
    return None if golden is None else members.get(golden.pk)


def forget_master_data() -> None:
    SourceRecord.objects.all().delete()
    DuplicateCandidate.objects.all().delete()
    GoldenRecord.objects.all().delete()


def one_by_one(system, records, entity="customer"):
    return [ingest(system, entity, ext, payload, locale="de-DE") for ext, payload in records]


def in_pages(system, records, size, entity="customer"):
    results = []
    for start in range(0, len(records), size):
        results += ingest_many(system, entity, records[start : start + size], locale="de-DE")
    return results


@pytest.mark.parametrize("page_size", [1, 4, len(CUSTOMERS)])
def test_ingest_many_decides_as_ingest_does_one_by_one(page_size):
    crm = SystemFactory(name="CRM")
    expected = snapshot(one_by_one(crm, CUSTOMERS))
    # The records exercise every path: created, linked, review, quarantined, unchanged.
    assert {r for r, *_ in expected["results"]} == set(IngestResult.values)
    assert expected["candidates"] and len(expected["goldens"]) > 1
    forget_master_data()

    assert snapshot(in_pages(crm, CUSTOMERS, page_size)) == expected


def test_two_new_records_of_one_person_in_one_page_link_together():
    crm = SystemFactory(name="CRM")
    page = [("J-1", JOHN), ("X", {**ANNA}), ("J-4", {**JOHN, "first_name": "Jon", "email": "JOHN.SMITH@example.org"})]

    results = ingest_many(crm, "customer", page)

    assert [r.result for r in results] == [IngestResult.CREATED, IngestResult.CREATED, IngestResult.LINKED]
    assert results[2].golden.pk == results[0].golden.pk
    assert set(results[0].golden.source_records.values_list("external_id", flat=True)) == {"J-1", "J-4"}


def test_households_and_namesakes_stay_apart_in_one_page():
    crm = SystemFactory(name="CRM")
    results = ingest_many(crm, "customer", [r for r in CUSTOMERS if r[0] in {"J-1", "J-2", "J-3"}])

    assert len({r.golden.pk for r in results}) == 3  # John, another John Smith, and Mary Smith


def test_ingest_many_matches_against_what_is_stored_as_one_by_one_does():
    """Half of the records stored one by one first: the batch then finds, updates and re-sends them."""
    crm, shop = SystemFactory(name="CRM"), SystemFactory(name="Shop")
    earlier, later = CUSTOMERS[:9], CUSTOMERS[9:] + [(f"W-{ext}", payload) for ext, payload in CUSTOMERS[:9]]
    one_by_one(crm, earlier)
    expected = snapshot(one_by_one(crm, later) + one_by_one(shop, CUSTOMERS))
    forget_master_data()
    one_by_one(crm, earlier)

    assert snapshot(ingest_many(crm, "customer", later, locale="de-DE") + in_pages(shop, CUSTOMERS, 5)) == expected


@pytest.mark.parametrize("entity", ["product", "supplier", "location"])
def test_other_entities_are_decided_as_one_by_one(entity):
    erp = SystemFactory(name="ERP")
    records = ENTITIES[entity]
    expected = snapshot(one_by_one(erp, records, entity))
    forget_master_data()

    assert snapshot(in_pages(erp, records, 2, entity)) == expected


def test_mixed_entities_with_the_same_ids_stay_apart():
    erp = SystemFactory(name="ERP")
    mixed = [(entity, f"X-{ext}", payload) for entity, records in ENTITIES.items() for ext, payload in records]
    expected = snapshot([ingest(erp, entity, ext, payload, locale="de-DE") for entity, ext, payload in mixed])
    forget_master_data()

    results = []
    for entity in ENTITIES:
        results += ingest_many(erp, entity, [(ext, p) for e, ext, p in mixed if e == entity], locale="de-DE")
    assert snapshot(results) == expected
    assert {g.entity for g in GoldenRecord.objects.all()} == set(ENTITIES)


def test_a_quarantined_record_is_kept_with_its_reasons():
    crm = SystemFactory(name="CRM")
    (outcome,) = ingest_many(crm, "customer", [("C-5", dict(CUSTOMERS[4][1]))])

    assert outcome.result == IngestResult.QUARANTINED and outcome.golden is None
    stored = SourceRecord.objects.get(external_id="C-5")
    assert stored.status == SourceStatus.QUARANTINED and "email" in stored.errors
    assert stored.payload == CUSTOMERS[4][1]


def test_each_outcome_shows_its_record_as_it_was_then():
    """A record sent twice in a page: the first outcome keeps the first version, as one by one."""
    crm = SystemFactory(name="CRM")
    first, second = ingest_many(crm, "customer", [("J-1", {**JOHN, "email": "broken@"}), ("J-1", JOHN)])

    assert first.result == IngestResult.QUARANTINED and first.source.status == SourceStatus.QUARANTINED
    assert second.result == IngestResult.CREATED and second.source.status == SourceStatus.LINKED
    assert first.source.pk == second.source.pk


def test_a_page_takes_a_few_queries_however_many_records_it_holds():
    crm = SystemFactory(name="CRM")
    one_by_one(crm, CUSTOMERS[:4])
    records = [(f"N-{i}", {**JOHN, "first_name": f"John{i}", "email": f"j{i}@example.org"}) for i in range(60)]
    records += [("C-1", {**ANNA, "city": "Potsdam"}), ("C-2", CUSTOMERS[1][1])]

    with CaptureQueriesContext(connection) as queries:
        ingest_many(crm, "customer", records, locale="de-DE")

    assert len(queries) <= 20, [q["sql"][:120] for q in queries]


def test_every_record_created_or_changed_has_its_audit_entry(personas):
    crm = SystemFactory(name="CRM")
    engineer = personas["engineer"]
    ingest_many(crm, "customer", CUSTOMERS[:9], locale="de-DE", actor=engineer, cid="run-41")
    token = correlation_id.set("run-42")  # the default: the correlation id of whatever runs now
    try:
        ingest_many(crm, "customer", CUSTOMERS[9:], locale="de-DE", actor=engineer)
    finally:
        correlation_id.reset(token)

    for model in (GoldenRecord, SourceRecord, DuplicateCandidate):
        entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model))
        created = {e.object_id for e in entries.filter(action=LogEntry.Action.CREATE)}
        assert created == set(model.objects.values_list("pk", flat=True)), model
        assert {(e.actor, e.cid) for e in entries} <= {(engineer, "run-41"), (engineer, "run-42")}
    updated = LogEntry.objects.filter(action=LogEntry.Action.UPDATE, cid="run-42")
    c1 = SourceRecord.objects.get(external_id="C-1")
    (c1_entry,) = updated.filter(content_type=ContentType.objects.get_for_model(SourceRecord), object_id=c1.pk)
    assert {"payload", "payload_hash", "values", "received_at"} <= set(c1_entry.changes)
    golden_entry = updated.get(content_type=ContentType.objects.get_for_model(GoldenRecord), object_id=c1.golden_id)
    assert "values" in golden_entry.changes
    # The unchanged re-send of C-7 wrote nothing.
    c7 = SourceRecord.objects.get(external_id="C-7")
    assert not updated.filter(object_id=c7.pk, content_type=ContentType.objects.get_for_model(SourceRecord))


def test_audit_entries_have_the_shape_auditlog_writes():
    crm = SystemFactory(name="CRM")
    ingest(crm, "customer", "A", ANNA)
    ingest_many(crm, "customer", [("B", ANNA)])
    source_type = ContentType.objects.get_for_model(SourceRecord)
    by_signal, by_batch = (
        LogEntry.objects.get(content_type=source_type, object_pk=str(SourceRecord.objects.get(external_id=ext).pk))
        for ext in ("A", "B")
    )
    assert set(by_signal.changes) == set(by_batch.changes)
    for field in ("payload", "values", "status", "entity", "changes"):
        assert by_signal.changes[field] == by_batch.changes[field]
    assert by_batch.object_repr == str(SourceRecord.objects.get(external_id="B"))


def test_score_pairs_gives_what_score_pair_gives_for_each_pair():
    values = [cleansing.cleanse("customer", payload, locale="de-DE").values for _, payload in CUSTOMERS]
    pairs = list(itertools.combinations(values, 2))

    together = matching.score_pairs("customer", [a for a, _ in pairs], [b for _, b in pairs])

    alone = [matching.score_pair("customer", a, b) for a, b in pairs]
    assert [(p.score, p.fields, p.decision, p.reasons) for p in together] == [
        (p.score, p.fields, p.decision, p.reasons) for p in alone
    ]


@pytest.mark.parametrize("entity", list(ENTITIES))
def test_page_scores_give_what_score_pair_gives(entity):
    values = [cleansing.cleanse(entity, payload, locale="de-DE").values for _, payload in ENTITIES[entity]]
    table = ValueTable()
    ids = [table.id(v) for v in values]
    pairs = list(itertools.combinations(ids, 2)) + [(b, a) for a, b in itertools.combinations(ids, 2)]
    scores = PairScores(entity, table)

    scores.score_all(pairs[: len(pairs) // 2])
    scores.score_all(pairs)  # the rest in a second pass, as a page scores what it did not foresee

    alone = [matching.score_pair(entity, table.rows[a], table.rows[b]) for a, b in pairs]
    assert [scores.score(p) for p in pairs] == [p.score for p in alone]
    assert [(p.score, p.fields, p.decision, p.reasons) for p in scores.explain(pairs)] == [
        (p.score, p.fields, p.decision, p.reasons) for p in alone
    ]


@pytest.mark.parametrize("entity", list(ENTITIES))
def test_blocking_keys_many_gives_each_records_keys(entity):
    values = [cleansing.cleanse(entity, payload, locale="de-DE").values for _, payload in ENTITIES[entity]]

    assert blocking_keys_many(entity, values) == [matching.blocking_keys(entity, v) for v in values]


def test_replace_keys_gives_each_golden_record_exactly_its_keys():
    from masterdata.services.ingest_writes import replace_keys

    changed, emptied, fresh = (GoldenRecordFactory() for _ in range(3))
    for golden, keys in ((changed, ["a", "b", "c"]), (emptied, ["x"])):
        BlockingKey.objects.bulk_create(BlockingKey(golden=golden, entity="customer", key=key) for key in keys)
    kept = dict(BlockingKey.objects.filter(golden=changed, key__in=["b", "c"]).values_list("key", "pk"))

    keys = {changed.pk: {"b", "c", "d"}, emptied.pk: set(), fresh.pk: {"a", "n"}}
    ranks = {changed.pk: b"moved", emptied.pk: b"", fresh.pk: "n\u00e9e".encode()}
    replace_keys("customer", keys, ranks, stored=[changed.pk, emptied.pk])

    rows = BlockingKey.objects.values_list("golden_id", "entity", "key", "rank")
    assert {(g, entity, key, bytes(rank)) for g, entity, key, rank in rows} == {
        (changed.pk, "customer", "b", b"moved"),  # kept keys move with their golden record
        (changed.pk, "customer", "c", b"moved"),
        (changed.pk, "customer", "d", b"moved"),
        (fresh.pk, "customer", "a", "n\u00e9e".encode()),
        (fresh.pk, "customer", "n", "n\u00e9e".encode()),
    }
    if connection.vendor == "postgresql":  # only the lost key deleted, only the gained one inserted
        assert dict(BlockingKey.objects.filter(golden=changed, key__in=["b", "c"]).values_list("key", "pk")) == kept
