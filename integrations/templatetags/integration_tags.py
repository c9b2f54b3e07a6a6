"""Small presentation helpers for the integration pages: JSON shown readably, status colours."""

import json

from django import template

register = template.Library()

STAGE = {"draft": "secondary", "test": "info", "pilot": "warning", "live": "success", "paused": "dark"}
RUN_STATUS = {
    "queued": "secondary",
    "extracting": "primary",
    "delivering": "primary",
    "succeeded": "success",
    "partial": "warning",
    "failed": "danger",
}
OUTCOME_STATUS = {
    "pending": "secondary",
    "retrying": "warning",
    "delivered": "success",
    "planned": "info",
    "quarantined": "warning",
    "dead": "danger",
    "discarded": "light",
}
RECONCILIATION_STATUS = {"queued": "secondary", "running": "primary", "done": "success", "failed": "danger"}
ACTION = {"created": "success", "updated": "primary", "unchanged": "secondary"}


@register.filter
def pretty_json(value) -> str:
    """Indented JSON for a ``<pre>``; strings stay as they are."""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


@register.filter
def is_structured(value) -> bool:
    return isinstance(value, dict | list)


@register.filter
def stage_colour(value) -> str:
    return STAGE.get(str(value), "secondary")


@register.filter
def run_colour(value) -> str:
    return RUN_STATUS.get(str(value), "secondary")


@register.filter
def outcome_colour(value) -> str:
    return OUTCOME_STATUS.get(str(value), "secondary")


@register.filter
def reconciliation_colour(value) -> str:
    return RECONCILIATION_STATUS.get(str(value), "secondary")


@register.filter
def action_colour(value) -> str:
    return ACTION.get(str(value), "secondary")


@register.filter
def items_limited(value, limit: int = 6):
    """The first ``limit`` (key, value) pairs of a dict, for compact diffs in tables."""
    if not isinstance(value, dict):
        return []
    return list(value.items())[: int(limit)]


@register.filter
def more_than(value, limit: int = 6) -> int:
    """How many entries of a dict ``items_limited`` left out."""
    return max(0, len(value) - int(limit)) if isinstance(value, dict) else 0
