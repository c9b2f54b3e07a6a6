"""Field mappings and filters: the JSON a flow stores, validated and applied.

A mapping is a list of rules, each producing one target field::

    {"target": "name", "op": "copy", "from": "company"}
    {"target": "country", "op": "constant", "value": "DE"}
    {"target": "status", "op": "lookup", "from": "state", "table": {"A": "active"}, "default": "inactive"}
    {"target": "total", "op": "expression", "expression": "price * quantity"}
    {"target": "weight_g", "op": "unit", "from": "weight", "from_unit": "kg", "to_unit": "g"}
    {"target": "price_eur", "op": "currency", "from": "price", "currency_from": "currency",
     "to": "EUR", "rates": {"USD": "0.92"}}
    {"target": "phone", "op": "copy", "from": "phone", "default": "n/a"}
    {"target": "party", "op": "reference", "from": "customer_no", "entity": "customer"}
    {"target": "party", "op": "reference", "from": "crm_no", "entity": "customer", "system": "CRM"}
    {"target": "lines", "op": "each", "from": "items", "rules": [
        {"target": "product", "op": "reference", "from": "sku", "entity": "product"},
        {"target": "quantity", "op": "copy", "from": "qty"}]}

``default`` on any rule replaces a missing or empty result. Dotted ``from``
paths reach into nested objects ("address.city"). An empty mapping passes
the record through unchanged. ``each`` maps every element of a list (an
order's lines) with its own rules. A filter is ``{"field", "op", "value"}`` with op
one of eq, ne, in, not_in, contains, gte, lte, exists, missing.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from rest_framework import serializers
from simpleeval import EvalWithCompoundTypes, InvalidExpression

from masterdata.cleansing.units import convert as convert_unit

OPS = ("copy", "constant", "lookup", "expression", "unit", "currency", "reference", "each")
FILTER_OPS = ("eq", "ne", "in", "not_in", "contains", "gte", "lte", "exists", "missing")
MISSING = object()


class MappingError(ValueError):
    """A record the mapping cannot be applied to; the message names the rule and the field."""


class UnresolvedReference(MappingError):
    """A referenced record (an order's customer, say) has not reached the target yet.

    Not the record's fault: the engine keeps it waiting and tries again,
    instead of quarantining it.
    """


class RuleSerializer(serializers.Serializer):
    target = serializers.CharField(max_length=100)
    op = serializers.ChoiceField(choices=OPS)
    # "from" is a Python keyword: the field is declared below under its JSON name.
    value = serializers.JSONField(required=False)
    table = serializers.DictField(required=False)
    expression = serializers.CharField(required=False, max_length=500)
    from_unit = serializers.CharField(required=False)
    to_unit = serializers.CharField(required=False)
    currency_from = serializers.CharField(required=False)
    to = serializers.CharField(required=False, max_length=3)
    rates = serializers.DictField(child=serializers.DecimalField(max_digits=20, decimal_places=10), required=False)
    entity = serializers.CharField(required=False)
    # reference: the system whose ids the value is (default: the flow's source system)
    system = serializers.CharField(required=False, max_length=100)
    rules = serializers.JSONField(required=False)
    default = serializers.JSONField(required=False)

    NEEDS = {
        "copy": ("from",),
        "constant": ("value",),
        "lookup": ("from", "table"),
        "expression": ("expression",),
        "unit": ("from", "from_unit", "to_unit"),
        "currency": ("from", "to", "rates"),
        "reference": ("from", "entity"),
        "each": ("from", "rules"),
    }

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.CharField(required=False, max_length=200)
        return fields

    def validate(self, attrs):
        missing = {name: "Required for this operation." for name in self.NEEDS[attrs["op"]] if name not in attrs}
        if missing:
            raise serializers.ValidationError(missing)
        if attrs["op"] == "expression":
            try:
                _evaluator({}).parse(attrs["expression"])
            except (SyntaxError, InvalidExpression) as exc:
                raise serializers.ValidationError({"expression": f"Not a valid expression: {exc}"}) from None
        if attrs["op"] == "unit":
            try:
                convert_unit(1, attrs["from_unit"], attrs["to_unit"])
            except ValueError as exc:
                raise serializers.ValidationError({"to_unit": str(exc)}) from None
        if attrs.get("system"):
            from integrations.models import System

            if not System.objects.filter(name=attrs["system"]).exists():
                raise serializers.ValidationError({"system": f"No system is named {attrs['system']!r}."})
        if attrs["op"] == "each":
            if not attrs["rules"]:
                raise serializers.ValidationError({"rules": "Give at least one rule for the elements."})
            try:
                validate_rules(attrs["rules"])
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"rules": exc.detail}) from None
        return attrs


class FilterSerializer(serializers.Serializer):
    field = serializers.CharField(max_length=200)
    op = serializers.ChoiceField(choices=FILTER_OPS)
    value = serializers.JSONField(required=False)

    def validate(self, attrs):
        if attrs["op"] not in ("exists", "missing") and "value" not in attrs:
            raise serializers.ValidationError({"value": "Required for this operation."})
        if attrs["op"] in ("in", "not_in") and not isinstance(attrs.get("value"), list):
            raise serializers.ValidationError({"value": "Must be a list."})
        return attrs


def validate_rules(rules: Any) -> list[dict]:
    """The rules, validated; ``serializers.ValidationError`` lists errors per rule (by position)."""
    return _validate_list(rules, RuleSerializer)


def validate_filters(filters: Any) -> list[dict]:
    return _validate_list(filters, FilterSerializer)


def _validate_list(items: Any, serializer_class) -> list[dict]:
    if not isinstance(items, list):
        raise serializers.ValidationError("Must be a list of rules.")
    serializer = serializer_class(data=items, many=True)
    if not serializer.is_valid():
        raise serializers.ValidationError(serializer.errors)
    return items  # the stored form is the JSON as written, once known valid


def lookup(record: dict, path: str) -> Any:
    """The value at a dotted path, or MISSING."""
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def _evaluator(names: dict) -> EvalWithCompoundTypes:
    functions = {"str": str, "int": int, "float": float, "Decimal": Decimal, "round": round, "len": len}
    functions.update(upper=str.upper, lower=str.lower, strip=str.strip)
    return EvalWithCompoundTypes(names=names, functions=functions)


def apply(rules: list[dict], record: dict, resolve=None) -> dict:
    """The target payload for ``record``. ``resolve(entity, value)`` answers reference rules."""
    if not rules:
        return dict(record)
    out: dict[str, Any] = {}
    for position, rule in enumerate(rules, 1):
        try:
            value = _apply_rule(rule, record, resolve)
        except MappingError as exc:
            raise type(exc)(f"Mapping rule {position} ({rule['target']}): {exc}") from None  # keeps UnresolvedReference
        if value in (MISSING, None, "") and "default" in rule:
            value = rule["default"]
        if value is not MISSING:
            out[rule["target"]] = value
    return out


def _apply_rule(rule: dict, record: dict, resolve) -> Any:
    op = rule["op"]
    if op == "constant":
        return rule["value"]
    if op == "expression":
        try:
            return _evaluator(dict(record)).eval(rule["expression"])
        except Exception as exc:  # simpleeval raises many kinds; each is a bad record for this rule
            raise MappingError(f"expression {rule['expression']!r} failed: {exc}") from None
    value = lookup(record, rule["from"])
    if value is MISSING or value in (None, ""):
        return MISSING
    if op == "copy":
        return value
    if op == "lookup":
        if str(value) in rule["table"]:
            return rule["table"][str(value)]
        if "default" in rule:
            return MISSING
        raise MappingError(f"{value!r} is not in the lookup table ({', '.join(map(str, rule['table']))})")
    if op == "unit":
        try:
            return format(convert_unit(value, rule["from_unit"], rule["to_unit"]).normalize(), "f")
        except ValueError as exc:
            raise MappingError(str(exc)) from None
    if op == "currency":
        return _convert_currency(rule, record, value)
    if op == "reference":
        if resolve is None:
            raise MappingError("references need a target to resolve against")
        if rule.get("system"):
            return resolve(rule["entity"], str(value), rule["system"])
        return resolve(rule["entity"], str(value))
    if op == "each":
        if not isinstance(value, list):
            raise MappingError(f"{rule['from']} is not a list")
        out = []
        for number, element in enumerate(value, 1):
            if not isinstance(element, dict):
                raise MappingError(f"element {number} of {rule['from']} is not an object")
            try:
                out.append(apply(rule["rules"], element, resolve))
            except MappingError as exc:
                raise type(exc)(f"element {number} of {rule['from']}: {exc}") from None
        return out
    raise MappingError(f"unknown operation {op!r}")  # pragma: no cover - validated before


def _convert_currency(rule: dict, record: dict, value: Any) -> str:
    source = lookup(record, rule["currency_from"]) if rule.get("currency_from") else rule["to"]
    source = str(source).upper() if source not in (MISSING, None, "") else rule["to"]
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise MappingError(f"{value!r} is not an amount") from None
    if source == rule["to"]:
        return str(amount)
    if source not in rule["rates"]:
        raise MappingError(f"no rate from {source} to {rule['to']}")
    return str((amount * Decimal(str(rule["rates"][source]))).quantize(Decimal("0.01")))


def matches(filters: list[dict], record: dict) -> bool:
    """Whether ``record`` passes every filter (no filters: every record)."""
    return all(_matches(f, record) for f in filters)


def _matches(rule: dict, record: dict) -> bool:
    value = lookup(record, rule["field"])
    op, expected = rule["op"], rule.get("value")
    if op == "exists":
        return value not in (MISSING, None, "")
    if op == "missing":
        return value in (MISSING, None, "")
    if value is MISSING:
        return op in ("ne", "not_in")
    if op == "eq":
        return _same(value, expected)
    if op == "ne":
        return not _same(value, expected)
    if op == "in":
        return any(_same(value, e) for e in expected)
    if op == "not_in":
        return not any(_same(value, e) for e in expected)
    if op == "contains":
        return str(expected).casefold() in str(value).casefold()
    try:
        left, right = Decimal(str(value)), Decimal(str(expected))
    except InvalidOperation:
        left, right = str(value), str(expected)
    return left >= right if op == "gte" else left <= right


def _same(a: Any, b: Any) -> bool:
    return a == b or str(a) == str(b)
