"""The batch paths make exactly the decisions of the one-by-one paths they replace."""

import itertools

import pytest

from integrations.tests.factories import SystemFactory
from masterdata import cleansing, matching
from masterdata.models import BlockingKey, DuplicateCandidate, GoldenRecord, SourceRecord
from masterdata.services.ingest import ingest
from masterdata.services.ingest_batch import ingest_many

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
RECORDS = [
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
]


def snapshot(results) -> dict:
    """What ingest decided, without database ids: results, golden records by their sources, candidates."""
    members = {
        golden.pk: frozenset(golden.source_records.values_list("external_id", flat=True))
        for golden in GoldenRecord.objects.all()
    }
    return {
        "results": [r.result for r in results],
        "goldens": {
            (members[g.pk], g.display_name, tuple(sorted(g.values.items()))) for g in GoldenRecord.objects.all()
        },
        "sources": {(s.external_id, s.status, members.get(s.golden_id)) for s in SourceRecord.objects.all()},
        "keys": {(members[k.golden_id], k.key) for k in BlockingKey.objects.all()},
        "candidates": {
            (members[c.left_id], members[c.right_id], c.score, tuple(sorted(c.fields.items())), c.status)
            for c in DuplicateCandidate.objects.all()
        },
    }


def forget_master_data() -> None:
    SourceRecord.objects.all().delete()
    DuplicateCandidate.objects.all().delete()
    GoldenRecord.objects.all().delete()


def test_ingest_many_decides_as_ingest_does_one_by_one():
    crm = SystemFactory(name="CRM")
    one_by_one = snapshot([ingest(crm, "customer", ext, payload, locale="de-DE") for ext, payload in RECORDS])
    assert one_by_one["candidates"] and len(one_by_one["goldens"]) > 1  # the records exercise both
    forget_master_data()

    results = ingest_many(crm, "customer", RECORDS[:4], locale="de-DE")
    results += ingest_many(crm, "customer", RECORDS[4:], locale="de-DE")

    assert snapshot(results) == one_by_one


def test_score_pairs_gives_what_score_pair_gives_for_each_pair():
    values = [cleansing.cleanse("customer", payload, locale="de-DE").values for _, payload in RECORDS]
    pairs = list(itertools.combinations(values, 2))

    together = matching.score_pairs("customer", [a for a, _ in pairs], [b for _, b in pairs])

    alone = [matching.score_pair("customer", a, b) for a, b in pairs]
    assert [(p.score, p.fields, p.decision, p.reasons) for p in together] == [
        (p.score, p.fields, p.decision, p.reasons) for p in alone
    ]
