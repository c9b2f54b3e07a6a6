"""Template helpers shared by the audit list table and the entry page."""

from auditlog.models import LogEntry
from django import template
from django.utils.html import format_html

register = template.Library()

# Colour grows with how intrusive the action is, as auditlog orders them.
ACTION_BADGE_CLASSES = {
    LogEntry.Action.CREATE: "text-bg-success",
    LogEntry.Action.UPDATE: "text-bg-primary",
    LogEntry.Action.DELETE: "text-bg-danger",
    LogEntry.Action.ACCESS: "text-bg-secondary",
}


@register.simple_tag
def action_badge(entry):
    """``{% action_badge entry %}``: the entry's action as a coloured badge."""
    css = ACTION_BADGE_CLASSES.get(entry.action, "text-bg-light")
    return format_html('<span class="badge {}">{}</span>', css, entry.get_action_display().capitalize())
