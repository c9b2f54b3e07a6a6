"""Field mappings and filters: validation with per-rule errors, and each operation applied."""

import pytest
from rest_framework.exceptions import ValidationError

from integrations.engine import mapping

RECORD = {
    "id": "C-1",
    "company": "Müller GmbH",
    "state": "A",
    "price": "10.50",
    "quantity": 3,
    "currency": "USD",
    "weight": "1.5",
    "address": {"city": "Köln"},
    "empty": "",
}


def test_an_empty_mapping_passes_the_record_through():
    assert mapping.apply([], RECORD) == RECORD


def test_each_operation():
    rules = [
        {"target": "name", "op": "copy", "from": "company"},
        {"target": "city", "op": "copy", "from": "address.city"},
        {"target": "country", "op": "constant", "value": "DE"},
        {"target": "status", "op": "lookup", "from": "state", "table": {"A": "active", "B": "blocked"}},
        {"target": "total", "op": "expression", "expression": "Decimal(price) * quantity"},
        {"target": "grams", "op": "unit", "from": "weight", "from_unit": "kg", "to_unit": "g"},
        {
            "target": "eur",
            "op": "currency",
            "from": "price",
            "currency_from": "currency",
            "to": "EUR",
            "rates": {"USD": "0.92"},
        },
        {"target": "note", "op": "copy", "from": "empty", "default": "n/a"},
        {"target": "gone", "op": "copy", "from": "no_such_field"},
    ]
    assert mapping.validate_rules(rules) == rules
    assert mapping.apply(rules, RECORD) == {
        "name": "Müller GmbH",
        "city": "Köln",
        "country": "DE",
        "status": "active",
        "total": mapping.Decimal("31.50"),
        "grams": "1500",
        "eur": "9.66",
        "note": "n/a",
    }


def test_references_are_resolved_by_the_caller():
    rules = [{"target": "party", "op": "reference", "from": "id", "entity": "customer"}]
    assert mapping.apply(rules, RECORD, resolve=lambda entity, value: f"{entity}:{value}") == {"party": "customer:C-1"}


@pytest.mark.django_db
def test_a_reference_may_name_the_system_whose_ids_it_holds():
    from integrations.tests.factories import SystemFactory

    SystemFactory(name="CRM")
    rules = [{"target": "party", "op": "reference", "from": "id", "entity": "customer", "system": "CRM"}]
    assert mapping.validate_rules(rules) == rules
    resolved = mapping.apply(rules, RECORD, resolve=lambda entity, value, system=None: f"{system}/{entity}:{value}")
    assert resolved == {"party": "CRM/customer:C-1"}
    with pytest.raises(ValidationError) as caught:
        mapping.validate_rules([{**rules[0], "system": "Nowhere"}])
    assert "No system is named 'Nowhere'" in str(caught.value.detail[0]["system"])


ORDER = {"id": "O-1", "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-2", "qty": "1"}]}
LINE_RULES = [
    {"target": "product", "op": "reference", "from": "sku", "entity": "product"},
    {"target": "quantity", "op": "expression", "expression": "int(qty)"},
]


def test_each_maps_every_element_of_a_list_with_its_own_rules():
    rules = [{"target": "lines", "op": "each", "from": "items", "rules": LINE_RULES}]
    assert mapping.validate_rules(rules) == rules
    out = mapping.apply(rules, ORDER, resolve=lambda entity, value: f"{entity}#{value}")
    assert out == {"lines": [{"product": "product#A-1", "quantity": 2}, {"product": "product#B-2", "quantity": 1}]}


def test_each_names_the_element_that_failed():
    rules = [{"target": "lines", "op": "each", "from": "items", "rules": LINE_RULES}]
    order = {"items": [{"sku": "A-1", "qty": 2}, {"sku": "B-2", "qty": "two"}]}
    with pytest.raises(mapping.MappingError) as caught:
        mapping.apply(rules, order, resolve=lambda entity, value: value)
    assert str(caught.value).startswith("Mapping rule 1 (lines): element 2 of items: Mapping rule 2 (quantity)")
    with pytest.raises(mapping.MappingError, match="items is not a list"):
        mapping.apply(rules, {"items": "A-1"}, resolve=lambda entity, value: value)


def test_each_rules_are_validated_too():
    bad = [{"target": "lines", "op": "each", "from": "items", "rules": [{"target": "q", "op": "lookup", "from": "x"}]}]
    with pytest.raises(ValidationError) as caught:
        mapping.validate_rules(bad)
    assert "table" in caught.value.detail[0]["rules"][0]
    with pytest.raises(ValidationError) as caught:
        mapping.validate_rules([{"target": "lines", "op": "each", "from": "items", "rules": []}])
    assert "at least one rule" in str(caught.value.detail[0]["rules"])


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"target": "s", "op": "lookup", "from": "state", "table": {"B": "blocked"}}, "'A' is not in the lookup table"),
        ({"target": "t", "op": "expression", "expression": "price * nothing"}, "failed"),
        (
            {"target": "e", "op": "currency", "from": "price", "currency_from": "currency", "to": "EUR", "rates": {}},
            "no rate from USD to EUR",
        ),
        ({"target": "g", "op": "unit", "from": "company", "from_unit": "kg", "to_unit": "g"}, "is not a quantity"),
    ],
)
def test_a_record_the_mapping_cannot_handle_names_the_rule(rule, message):
    with pytest.raises(mapping.MappingError) as caught:
        mapping.apply([{"target": "x", "op": "constant", "value": 1}, rule], RECORD)
    assert str(caught.value).startswith(f"Mapping rule 2 ({rule['target']})")
    assert message in str(caught.value)


def test_invalid_rules_get_errors_per_rule_and_field():
    rules = [
        {"target": "ok", "op": "copy", "from": "id"},
        {"target": "x", "op": "lookup", "from": "state"},  # no table
        {"target": "y", "op": "teleport"},
        {"target": "z", "op": "expression", "expression": "1 +"},
        {"target": "w", "op": "unit", "from": "weight", "from_unit": "kg", "to_unit": "litre"},
    ]
    with pytest.raises(ValidationError) as caught:
        mapping.validate_rules(rules)
    errors = caught.value.detail  # keyed by the position of each bad rule
    assert 0 not in errors
    assert "table" in errors[1]
    assert "op" in errors[2]
    assert "Not a valid expression" in str(errors[3]["expression"])
    assert "cannot convert" in str(errors[4]["to_unit"])


def test_rules_must_be_a_list():
    with pytest.raises(ValidationError):
        mapping.validate_rules({"target": "x"})


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"field": "state", "op": "eq", "value": "A"}, True),
        ({"field": "state", "op": "ne", "value": "A"}, False),
        ({"field": "currency", "op": "in", "value": ["EUR", "USD"]}, True),
        ({"field": "currency", "op": "not_in", "value": ["USD"]}, False),
        ({"field": "company", "op": "contains", "value": "müller"}, True),
        ({"field": "quantity", "op": "gte", "value": 3}, True),
        ({"field": "price", "op": "lte", "value": "9.99"}, False),
        ({"field": "address.city", "op": "exists"}, True),
        ({"field": "empty", "op": "missing"}, True),
        ({"field": "nowhere", "op": "ne", "value": "x"}, True),
        ({"field": "nowhere", "op": "eq", "value": "x"}, False),
    ],
)
def test_filters(rule, expected):
    mapping.validate_filters([rule])
    assert mapping.matches([rule], RECORD) is expected


def test_filter_validation():
    with pytest.raises(ValidationError) as caught:
        mapping.validate_filters([{"field": "a", "op": "in", "value": "x"}, {"field": "b", "op": "eq"}])
    assert "Must be a list" in str(caught.value.detail[0]["value"])  # keyed by position
    assert "Required" in str(caught.value.detail[1]["value"])
