"""Choosing each golden value among the source records linked to it."""

from masterdata.choices import SourceStatus, Strategy
from masterdata.models import GoldenRecord, SourceRecord, SurvivorshipRule


def _rules(entity: str) -> tuple[SurvivorshipRule | None, dict[str, SurvivorshipRule]]:
    rules = list(SurvivorshipRule.objects.filter(entity=entity))
    default = next((r for r in rules if not r.field), None)
    return default, {r.field: r for r in rules if r.field}


def _rank(source: SourceRecord, value, rule: SurvivorshipRule | None):
    """Sort key: higher wins. Ties go to the most recent record."""
    recency = (source.received_at, source.pk)
    if rule is None or rule.strategy == Strategy.MOST_RECENT:
        return (0, recency)
    if rule.strategy == Strategy.MOST_TRUSTED:
        order = [int(s) for s in rule.trusted_systems]
        trust = len(order) - order.index(source.system_id) if source.system_id in order else 0
        return (trust, recency)
    return (len(str(value)), recency)  # MOST_COMPLETE


def surviving_values(entity: str, sources: list[SourceRecord]) -> tuple[dict, dict]:
    """``(values, lineage)`` for a golden record built from ``sources``."""
    default, per_field = _rules(entity)
    schema_fields = GoldenRecord(entity=entity).schema.field_names
    values, lineage = {}, {}
    # A quarantined version of a once-linked record offers nothing: a value cleansing
    # rejected must never reach the golden record.
    sources = [s for s in sources if s.status == SourceStatus.LINKED]
    for field in schema_fields:
        offers = [(s, s.values.get(field)) for s in sources if s.values.get(field) not in (None, "")]
        if not offers:
            values[field] = None
            continue
        rule = per_field.get(field, default)
        source, value = max(offers, key=lambda offer: _rank(offer[0], offer[1], rule))
        values[field], lineage[field] = value, source.pk
    return values, lineage


def refresh_golden(golden: GoldenRecord) -> GoldenRecord:
    """Recompute a golden record from its linked sources. Values a steward
    pinned (at merge time) win, and lineage says so."""
    sources = list(golden.source_records.all())
    values, lineage = surviving_values(golden.entity, sources)
    for field, value in golden.pinned.items():
        values[field] = value
        lineage[field] = "steward"
    golden.values, golden.lineage = values, lineage
    golden.display_name = golden.schema.display_name(values)[:255]
    golden.save()
    return golden
