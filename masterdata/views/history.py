"""A golden record's history from django-auditlog, in a steward's words.

auditlog stores a JSON field's change as two JSON strings of the whole value;
shown raw, one changed e-mail reads as two walls of text. Here each changed
key of ``values`` / ``pinned`` / ``lineage`` becomes a line of its own
("Email: a → b"), and bookkeeping fields (ids, timestamps, the display name
derived from the values) are left out. The audit pages still show everything.
"""

import json
from dataclasses import dataclass, field

from auditlog.models import LogEntry

from audit.changes import MISSING

HIDDEN = {"id", "created", "updated", "display_name", "entity"}
PER_KEY = {"values": "{}", "pinned": "{} (pinned)", "lineage": "{} supplied by"}


@dataclass
class HistoryLine:
    label: str
    old: object
    new: object


@dataclass
class HistoryEntry:
    entry: LogEntry
    lines: list[HistoryLine] = field(default_factory=list)


def record_history(golden, limit: int) -> list[HistoryEntry]:
    """The newest ``limit`` audit entries of ``golden``, each with readable change lines."""
    titles = {f.name: f.title for f in golden.schema.fields}
    entries = LogEntry.objects.get_for_object(golden).select_related("actor")[:limit]
    return [
        HistoryEntry(entry, [] if entry.action == LogEntry.Action.CREATE else lines(entry, titles)) for entry in entries
    ]


def lines(entry: LogEntry, titles: dict) -> list[HistoryLine]:
    changes = entry.changes_dict if isinstance(entry.changes_dict, dict) else {}
    result = []
    for name, change in changes.items():
        if name in HIDDEN or not isinstance(change, list | tuple) or len(change) != 2:
            continue
        old, new = (parse(value) for value in change)
        if name in PER_KEY and isinstance(old or {}, dict) and isinstance(new or {}, dict):
            result += key_lines(name, old or {}, new or {}, titles)
        elif name == "merged_into":
            result.append(HistoryLine("Merged into record", old and f"#{old}", new and f"#{new}"))
        else:
            result.append(HistoryLine(name.replace("_", " ").capitalize(), old, new))
    return result


def key_lines(name: str, old: dict, new: dict, titles: dict) -> list[HistoryLine]:
    """One line per key whose value changed, in the schema's field order."""
    keys = [k for k in titles if k in old or k in new] + sorted((set(old) | set(new)) - set(titles))
    shown = source_label if name == "lineage" else (lambda value: value)
    return [
        HistoryLine(PER_KEY[name].format(titles.get(key, key)), shown(old.get(key)), shown(new.get(key)))
        for key in keys
        if old.get(key) != new.get(key)
    ]


def source_label(origin):
    return f"source record #{origin}" if isinstance(origin, int) else origin


def parse(value):
    """auditlog's text for one side of a change: JSON for JSON fields, "None" for no value."""
    if value is None or value == MISSING:
        return None
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value
