"""Survivorship rules as stewards manage them: the rule in force for each field, and changing one.

Pages, API and the admin's model all write through ``set_rule`` and ``clear_rule``
(``save()`` and ``delete()``, so each change is in the audit trail), after
``validate_rule``, which names the field each problem belongs to.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError

from integrations.models import System
from masterdata.choices import Strategy
from masterdata.entities import SCHEMAS, Entity
from masterdata.models import SurvivorshipRule

from .survivorship import load_rules

OWN, DEFAULT, BUILT_IN = "own", "default", "built-in"


@dataclass
class RuleRow:
    """One line of an entity's rules: the default (``field`` empty) or a field, and what decides it."""

    field: str
    title: str
    rule: SurvivorshipRule | None  # the rule in force; None: most recent, built in
    origin: str  # OWN (the line's own rule), DEFAULT (the entity's default rule) or BUILT_IN
    systems: list[tuple[int, str | None]]  # the trusted systems in order: (id, name; None if deleted)

    @property
    def strategy_label(self) -> str:
        return self.rule.get_strategy_display() if self.rule else Strategy.MOST_RECENT.label


def rules_in_force(entity: str) -> list[RuleRow]:
    """The entity's default first, then each of its fields with the rule that decides it."""
    default, per_field = load_rules(entity)
    wanted = {int(s) for rule in [default, *per_field.values()] if rule for s in rule.trusted_systems}
    names = dict(System.objects.filter(pk__in=wanted).values_list("pk", "name"))

    def row(field: str, title: str, rule, origin: str) -> RuleRow:
        systems = [(int(s), names.get(int(s))) for s in rule.trusted_systems] if rule else []
        return RuleRow(field, title, rule, origin, systems)

    rows = [row("", "Default for every field", default, OWN if default else BUILT_IN)]
    for field in SCHEMAS[entity].fields:
        own = per_field.get(field.name)
        if own:
            rows.append(row(field.name, field.title, own, OWN))
        else:
            rows.append(row(field.name, field.title, default, DEFAULT if default else BUILT_IN))
    return rows


def validate_rule(entity: str, field: str, strategy: str, trusted_systems) -> list[int]:
    """The trusted system ids to store, most trusted first, or a ValidationError keyed by field."""
    errors = {}
    if entity not in Entity.values:
        errors["entity"] = f"Choose one of: {', '.join(Entity.values)}."
    elif field and field not in SCHEMAS[entity].field_names:
        errors["field"] = f"{Entity(entity).label} records have no field “{field}”."
    if strategy not in Strategy.values:
        errors["strategy"] = f"Choose one of: {', '.join(Strategy.values)}."
    ids, problem = _system_ids(trusted_systems)
    if problem:
        errors["trusted_systems"] = problem
    elif strategy == Strategy.MOST_TRUSTED and not ids:
        errors["trusted_systems"] = "Name at least one system, most trusted first."
    if errors:
        raise ValidationError(errors)
    return ids if strategy == Strategy.MOST_TRUSTED else []  # the other strategies do not read it


def _system_ids(values) -> tuple[list[int], str | None]:
    if not isinstance(values, list | tuple):
        return [], "A list of system ids, most trusted first."
    try:
        ids = [int(value) for value in values]
    except (TypeError, ValueError):
        return [], "A list of system ids, most trusted first."
    if len(set(ids)) != len(ids):
        return [], "Name each system once."
    unknown = set(ids) - set(System.objects.filter(pk__in=ids).values_list("pk", flat=True))
    if unknown:
        return [], f"No system has the id {', '.join(str(pk) for pk in sorted(unknown))}."
    return ids, None


def set_rule(entity: str, field: str, strategy: str, trusted_systems) -> SurvivorshipRule:
    """Create or change the rule of ``field`` (empty: the entity's default). Existing golden
    records keep their values until the rules are applied to them (``apply_rules``)."""
    ids = validate_rule(entity, field, strategy, trusted_systems)
    rule = SurvivorshipRule.objects.filter(entity=entity, field=field).first() or SurvivorshipRule(
        entity=entity, field=field
    )
    rule.strategy, rule.trusted_systems = strategy, ids
    rule.save()
    return rule


def clear_rule(entity: str, field: str) -> bool:
    """Remove the rule of ``field``: the entity's default decides it again (for the default
    itself: the built-in "most recent"). False when there was none."""
    rule = SurvivorshipRule.objects.filter(entity=entity, field=field).first()
    if rule is None:
        return False
    rule.delete()
    return True
