"""Run a whole record through its fields' rule chains (see ``registry``).

``cleanse`` never raises on bad data: a value a rule rejects becomes an error
on its field (the record is quarantined), and a rule that fails unexpectedly
is logged and reported the same way, so one bug cannot lose a record. Only an
unknown ``entity`` (a programming error, not bad data) raises ``ValueError``.
"""

import logging
from collections.abc import Mapping
from functools import cache
from typing import Any

from masterdata.cleansing.base import Change, CleanseResult, Context, Reject, jsonable
from masterdata.cleansing.locales import LocaleInfo, locale_info
from masterdata.cleansing.registry import chain_for, field_order
from masterdata.entities import SCHEMAS, Field

logger = logging.getLogger(__name__)


def _changed(before: Any, after: Any) -> bool:
    # 12 -> "12" is the same value written as text: not worth a steward's time.
    return before != after and str(before) != after


def _on_reject(rejection: Reject, value: Any) -> Any:
    if rejection.keep is not None:
        return rejection.keep
    return value if isinstance(value, str) else None


def cleanse_field(field: Field, raw: Any, locale: LocaleInfo, values: Mapping[str, Any], result: CleanseResult) -> Any:
    """Run one value through its field's chain, recording changes, errors and
    warnings on ``result``; returns the cleaned value (None when empty)."""
    if raw is None or raw == "":
        return None
    ctx = Context(field.name, field.kind, locale, values)
    value = raw
    for rule in chain_for(field):
        try:
            after = rule.func(value, ctx)  # not rule(...): one Python call less per rule and value
        except Reject as rejection:
            after = _on_reject(rejection, value)
            result.errors[field.name] = rejection.reason
        except Exception:
            logger.exception("cleansing rule %s failed on field %s", rule.name, field.name)
            after = value if isinstance(value, str) else None
            result.errors[field.name] = f"could not be cleaned (rule {rule.name} failed); please report this value"
        if after is not value and _changed(value, after):  # most rules return their very input when it is fine
            result.changes.append(Change(field.name, jsonable(value), after, rule.name))
        value = after
        if value is None or field.name in result.errors:
            break
    if ctx.warnings:
        result.warnings[field.name] = "; ".join(ctx.warnings)
    return value


@cache  # one entry per known entity: unknown ones are refused before
def _cleaning_order(entity: str) -> tuple[Field, ...]:
    """The entity's fields in the order they are cleaned, sorted once rather than per record."""
    return tuple(field_order(SCHEMAS[entity].fields))


def cleanse(entity: str, raw: Any, *, locale: str | None = None) -> CleanseResult:
    """Cleanse one source record of ``entity`` (see the package docstring).

    Fields are cleaned country first (phones and postcodes read it); keys that
    are not fields of the entity are ignored; a required field left empty is an
    error. ``raw`` that is not a mapping gives a record of empty values with an
    error on ``"record"``.
    """
    schema = SCHEMAS.get(entity)
    if schema is None:
        raise ValueError(f"unknown entity {entity!r}; expected one of {sorted(SCHEMAS)}")
    result = CleanseResult(values={})
    if not isinstance(raw, Mapping):
        result.errors["record"] = f"expected an object of fields, got {type(raw).__name__}"
        raw = {}
    info = locale_info(locale)
    values: dict[str, Any] = {}
    for field in _cleaning_order(entity):
        values[field.name] = cleanse_field(field, raw.get(field.name), info, values, result)
    for field in schema.fields:
        if field.required and values[field.name] is None and field.name not in result.errors:
            result.errors[field.name] = f"{field.title} is required"
    result.values = {name: values[name] for name in schema.field_names}
    return result
