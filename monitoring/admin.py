from django.contrib import admin

from .models import Heartbeat


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("component", "hostname", "pid", "started", "last_seen")
    list_filter = ("component",)
    readonly_fields = ("component", "hostname", "pid", "started", "last_seen")
