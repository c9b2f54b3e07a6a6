from django.contrib import admin

from .alerts import visible_alerts
from .models import Alert, Heartbeat


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("component", "hostname", "pid", "started", "last_seen")
    list_filter = ("component",)
    readonly_fields = ("component", "hostname", "pid", "started", "last_seen")


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    """Read-only: alerts open and resolve themselves; people acknowledge them on the Alerts page."""

    list_display = ("title", "kind", "severity", "opened_at", "acknowledged_by", "resolved_at")
    list_filter = ("kind", "severity")
    list_select_related = ("acknowledged_by",)

    def get_queryset(self, request):
        return visible_alerts(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
