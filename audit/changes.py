"""A log entry's changes as before/after rows, whatever shape auditlog stored them in.

django-auditlog keeps ``{field: [old, new]}`` for field changes but
``{field: {"type": "m2m", "operation": "add" | "delete", "objects": [...]}}``
for many-to-many changes, and writes a missing value as the string ``"None"``.
The pages show both shapes the same way. The model is asked for field labels
only: its class may be gone (a removed app), and the trail must still render.
"""

import json
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst

# auditlog's text changes store a null (or, on create, absent) value as this string.
MISSING = "None"


@dataclass(frozen=True)
class FieldChange:
    """One changed field; ``None`` on either side means there was no value."""

    field: str
    label: str
    old: str | None
    new: str | None


def change_rows(entry) -> list[FieldChange]:
    """The entry's changed fields, in the model's field order (fields it no longer has last)."""
    model = entry.content_type.model_class()
    return [
        FieldChange(field, field_label(model, field), *_before_after(values))
        for field, values in _changes(entry, model)
    ]


def change_summary(entry, limit: int = 3) -> str:
    """A short list of changed field labels for the list page, e.g. ``Name, Kind +2 more``."""
    model = entry.content_type.model_class()
    labels = [field_label(model, field) for field, _ in _changes(entry, model)]
    if len(labels) <= limit:
        return ", ".join(labels)
    return f"{', '.join(labels[:limit])} +{len(labels) - limit} more"


def field_label(model, field: str) -> str:
    """The field's verbose name, or its stored name if the model or field no longer exists."""
    if model is None:
        return field
    try:
        return str(capfirst(model._meta.get_field(field).verbose_name))
    except (FieldDoesNotExist, AttributeError):  # AttributeError: reverse relations have no verbose_name
        return field


def _changes(entry, model=None):
    changes = entry.changes_dict
    # A hand-written or legacy entry may hold anything; show nothing rather than crash the trail.
    if not isinstance(changes, dict):
        return ()
    if model is None:
        return changes.items()
    # auditlog stores a creation's fields in set order, reverse relations included
    # ("integrations.Connector.None"): those say nothing, and the rest read best in model order.
    order = {field.name: i for i, field in enumerate(model._meta.get_fields())}
    reverse = {field.name for field in model._meta.get_fields() if field.auto_created and not field.concrete}
    kept = [(name, values) for name, values in changes.items() if name not in reverse]
    return sorted(kept, key=lambda item: order.get(item[0], len(order)))


def _before_after(values) -> tuple[str | None, str | None]:
    if isinstance(values, dict) and values.get("type") == "m2m":
        objects = ", ".join(str(obj) for obj in values.get("objects", []))
        verb = "added" if values.get("operation") == "add" else "removed"
        return None, f"{verb}: {objects}"
    if isinstance(values, list | tuple) and len(values) == 2:
        return _value(values[0]), _value(values[1])
    return None, _value(values)  # an unknown shape is shown as-is rather than hidden


def _value(value) -> str | None:
    if value is None or value == MISSING:
        return None
    return str(value)


def event_details(entry) -> tuple[str, list[tuple[str, str]]]:
    """An access event's name and its details as label/value pairs, for the entry page.

    ``record_event`` names the event ``event``; the integrations' own entries call it ``action``.
    Nested values (a list of checks, the filters of an export) are shown as compact JSON.
    """
    data = entry.additional_data if isinstance(entry.additional_data, dict) else {}
    name = str(data.get("event") or data.get("action") or "")
    details = [
        (capfirst(str(key).replace("_", " ")), _detail(value))
        for key, value in data.items()
        if key not in ("event", "action")
    ]
    return name, details


def _detail(value) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)
