import django_tables2 as tables
from auditlog.models import LogEntry
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from .changes import change_summary
from .templatetags.audit_tags import action_badge


class LogEntryTable(tables.Table):
    # The pk breaks ties between entries of one transaction, so pages never overlap.
    timestamp = tables.DateTimeColumn(format="Y-m-d H:i:s", verbose_name="When", order_by=("timestamp", "pk"))
    actor = tables.Column(empty_values=(), order_by=("actor__username", "actor_email"))
    action = tables.Column()
    content_type = tables.Column(
        verbose_name="Object type", order_by=("content_type__app_label", "content_type__model")
    )
    object_repr = tables.Column(verbose_name="Object", linkify=("audit:logentry_detail", [tables.A("pk")]))
    remote_addr = tables.Column(verbose_name="Address", default="—")
    changes = tables.Column(verbose_name="Changed fields", empty_values=(), orderable=False)

    class Meta:
        model = LogEntry
        fields = ("timestamp", "actor", "action", "content_type", "object_repr", "remote_addr", "changes")
        attrs = {"class": "table table-hover align-middle"}
        order_by = "-timestamp"
        empty_text = "No entries match these filters."

    def render_actor(self, record):
        if record.actor is not None:
            return record.actor.get_username()
        if record.actor_email:
            return record.actor_email  # the user has been deleted since
        # No signed-in user: a migration, management command or background task.
        return mark_safe('<span class="text-body-secondary">system</span>')

    def render_action(self, record):
        return action_badge(record)

    def render_changes(self, record):
        summary = change_summary(record)
        if summary:
            return summary
        data = record.additional_data if isinstance(record.additional_data, dict) else {}
        event = data.get("event") or data.get("action")  # an access event changes no field: name it
        return format_html("<code>{}</code>", event) if event else "—"
