from django.contrib import admin

from integrations.admin import ReadOnlyAdmin

from .alerts import visible_alerts
from .models import Alert, Heartbeat


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("component", "hostname", "pid", "started", "last_seen")
    list_filter = ("component",)
    readonly_fields = ("component", "hostname", "pid", "started", "last_seen")


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    """Alerts open and resolve themselves; people acknowledge them on the Alerts page."""

    visible = visible_alerts
    list_display = ("title", "kind", "severity", "opened_at", "acknowledged_by", "resolved_at")
    list_filter = ("kind", "severity")
    list_select_related = ("acknowledged_by",)
