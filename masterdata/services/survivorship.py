"""Choosing each golden value among the source records linked to it."""

from masterdata.choices import SourceStatus, Strategy
from masterdata.entities import SCHEMAS
from masterdata.models import GoldenRecord, SourceRecord, SurvivorshipRule

Rules = tuple[SurvivorshipRule | None, dict[str, SurvivorshipRule]]


def load_rules(entity: str) -> Rules:
    """The entity's ``(default rule, {field: rule})``: load once to decide many records."""
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


def surviving_values(entity: str, sources: list[SourceRecord], rules: Rules | None = None) -> tuple[dict, dict]:
    """``(values, lineage)`` for a golden record built from ``sources`` (``rules``: from :func:`load_rules`)."""
    default, per_field = rules or load_rules(entity)
    schema_fields = SCHEMAS[entity].field_names
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
    """Recompute a golden record from its linked sources and save it."""
    recompute(golden, list(golden.source_records.all()))
    golden.save()
    return golden


def recompute(golden: GoldenRecord, sources: list[SourceRecord], rules: Rules | None = None) -> None:
    """Set a golden record's values, lineage and display name from ``sources`` (not saved).
    Values a steward pinned (at merge time) win, and lineage says so."""
    values, lineage = surviving_values(golden.entity, sources, rules)
    for field, value in golden.pinned.items():
        values[field] = value
        lineage[field] = "steward"
    golden.values, golden.lineage = values, lineage
    golden.display_name = golden.schema.display_name(values)[:255]
