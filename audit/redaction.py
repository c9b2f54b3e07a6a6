"""Secrets and personal data kept out of audit diffs.

``JUNCTION_AUDIT_REDACT_FIELDS`` lists ``app_label.model.field`` (the whole
value) or ``app_label.model.field.key`` (one key of a JSON field, e.g.
``masterdata.goldenrecord.values.date_of_birth``). The entry still says the
field changed; both sides read ``[redacted]``.

Connector credentials are always redacted here, on top of auditlog's
``exclude_fields`` in settings: two guards, so removing one leaks nothing.
Redaction runs in ``pre_save`` of every LogEntry, so entries written through
auditlog, ``record_event`` or ``audit.bulk_entries`` all pass through it.
"""

import json
from collections import defaultdict
from functools import lru_cache

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured

REDACTED = "[redacted]"
ALWAYS = ("integrations.connector.credentials",)


def rules() -> dict[str, dict[str, frozenset[str] | None]]:
    """``{"app.model": {field: None (whole value) or {json keys}}}`` from the setting."""
    return _parse((*ALWAYS, *settings.JUNCTION_AUDIT_REDACT_FIELDS))


@lru_cache(maxsize=8)
def _parse(specs: tuple[str, ...]) -> dict[str, dict[str, frozenset[str] | None]]:
    found: dict[str, dict[str, set[str] | None]] = defaultdict(dict)
    for spec in specs:
        parts = spec.strip().lower().split(".", 3)
        if len(parts) < 3:
            raise ImproperlyConfigured(f"JUNCTION_AUDIT_REDACT_FIELDS: {spec!r} is not app_label.model.field[.key]")
        label, field = ".".join(parts[:2]), parts[2]
        fields = found[label]
        if len(parts) == 3:
            fields[field] = None  # the whole value wins over single keys
        elif fields.get(field, set()) is not None:
            fields.setdefault(field, set()).add(parts[3])
    return {
        label: {f: (None if k is None else frozenset(k)) for f, k in fields.items()} for label, fields in found.items()
    }


def redact_entry(sender=None, instance=None, **kwargs) -> None:
    """``pre_save`` of LogEntry: replace configured values in ``changes`` and ``serialized_data``."""
    content_type = ContentType.objects.get_for_id(instance.content_type_id)  # cached: no query per entry
    fields = rules().get(f"{content_type.app_label}.{content_type.model}")
    if not fields:
        return
    if isinstance(instance.changes, dict):
        instance.changes = {
            name: _redact_change(value, fields.get(name, False)) for name, value in instance.changes.items()
        }
    data = instance.serialized_data
    if isinstance(data, dict) and isinstance(data.get("fields"), dict):
        data["fields"] = {name: _redact_value(value, fields.get(name, False)) for name, value in data["fields"].items()}


def _redact_change(change, keys):
    if keys is False:
        return change
    if isinstance(change, list | tuple):
        return [_redact_value(side, keys) for side in change]
    return _redact_value(change, keys)


def _redact_value(value, keys):
    """``keys`` is False (keep), None (redact all) or a set of JSON keys to redact."""
    if keys is False or value is None or value == "None":
        return value
    if keys is None:
        return REDACTED
    parsed, was_text = value, isinstance(value, str)
    if was_text:
        try:
            parsed = json.loads(value)
        except ValueError:
            return REDACTED  # not the JSON object we expected: hide it rather than guess
    if not isinstance(parsed, dict):
        return REDACTED
    parsed = {k: (REDACTED if k in keys and v not in (None, "") else v) for k, v in parsed.items()}
    return json.dumps(parsed, sort_keys=True) if was_text else parsed
