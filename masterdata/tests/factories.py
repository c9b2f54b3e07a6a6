"""Master-data rows built directly, without cleansing or matching.

Page and API tests need golden records, xrefs and candidates in exact shapes;
building them here keeps those tests independent of the matcher's scores.
"""

import factory

from integrations.tests.factories import SystemFactory
from masterdata.choices import SourceStatus
from masterdata.entities import SCHEMAS, Entity
from masterdata.models import DuplicateCandidate, GoldenRecord, SourceRecord
from masterdata.services.ingest import payload_hash


class GoldenRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GoldenRecord

    entity = Entity.CUSTOMER
    values = factory.Sequence(lambda n: {"first_name": "Grace", "last_name": f"Hopper {n}"})
    display_name = factory.LazyAttribute(lambda g: SCHEMAS[g.entity].display_name(g.values))


class SourceRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SourceRecord

    system = factory.SubFactory(SystemFactory)
    entity = Entity.CUSTOMER
    external_id = factory.Sequence(lambda n: f"EXT-{n}")
    payload = factory.LazyAttribute(lambda s: dict(s.values))
    payload_hash = factory.LazyAttribute(lambda s: payload_hash(s.payload))
    values = factory.LazyFunction(dict)
    status = SourceStatus.LINKED


def golden_with_sources(*sources: tuple, entity: str = Entity.CUSTOMER) -> GoldenRecord:
    """A golden record built from ``(system, external_id, values)`` sources, in
    order of arrival: the last non-empty value of a field wins, as under the
    default "most recent" survivorship, and lineage names its source."""
    golden = GoldenRecordFactory(entity=entity, values={}, display_name="")
    values, lineage = dict.fromkeys(SCHEMAS[entity].field_names), {}
    for system, external_id, source_values in sources:
        full = {**dict.fromkeys(SCHEMAS[entity].field_names), **source_values}
        source = SourceRecordFactory(
            system=system, entity=entity, external_id=external_id, values=full, payload=source_values, golden=golden
        )
        for field, value in source_values.items():
            if value not in (None, ""):
                values[field], lineage[field] = value, source.pk
    golden.values, golden.lineage = values, lineage
    golden.display_name = SCHEMAS[entity].display_name(values)
    golden.save()
    return golden


def similarity(a, b) -> float | None:
    """A stand-in for the matcher's per-field similarity: None when a side has no value."""
    if a in (None, "") or b in (None, ""):
        return None
    return 1.0 if a == b else 0.5


def candidate_for(left: GoldenRecord, right: GoldenRecord, score: float = 0.8, **kwargs) -> DuplicateCandidate:
    """An open candidate for two records, stored in the model's left < right order."""
    left, right = sorted((left, right), key=lambda g: g.pk)
    fields = kwargs.pop("fields", None)
    if fields is None:
        names = SCHEMAS[left.entity].field_names
        fields = {name: similarity(left.values.get(name), right.values.get(name)) for name in names}
    return DuplicateCandidate.objects.create(
        entity=left.entity, left=left, right=right, score=score, fields=fields, **kwargs
    )


def customer_pair(system_a=None, system_b=None, score: float = 0.9):
    """Two customer records that look like one person, and their open candidate."""
    system_a = system_a or SystemFactory(name="Tryton ERP")
    system_b = system_b or SystemFactory(name="Web shop")
    older = golden_with_sources(
        (
            system_a,
            "C-1",
            {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "city": "London"},
        ),
    )
    newer = golden_with_sources(
        (
            system_b,
            "S-1",
            {"first_name": "Ada", "last_name": "Lovelace", "email": "ada.l@example.org", "phone": "+442079460000"},
        ),
    )
    return older, newer, candidate_for(older, newer, score=score)
