"""Admin for integrations: mostly for granting access object by object (guardian's
"Object permissions" page). Connector settings and flow rules are edited on the
pages, where the adapter's schema and the mapping validator check them; here
they are read-only. Credentials never appear (they are not editable fields)."""

from django.contrib import admin
from guardian.admin import GuardedModelAdmin

from .models import Connector, Flow, RecordOutcome, Run, System


class RestrictedGuardedAdmin(GuardedModelAdmin):
    def get_queryset(self, request):
        # The admin honours the same choke point as pages and API.
        return super().get_queryset(request).restrict(request.user, "view")


@admin.register(System)
class SystemAdmin(RestrictedGuardedAdmin):
    list_display = ("name", "kind", "environment", "owner", "updated")
    list_filter = ("kind", "environment")
    search_fields = ("name", "notes")


@admin.register(Connector)
class ConnectorAdmin(RestrictedGuardedAdmin):
    list_display = ("name", "system", "adapter", "enabled", "circuit", "updated")
    list_filter = ("adapter", "enabled", "circuit")
    search_fields = ("name",)
    fields = ("name", "system", "adapter", "enabled", "settings", "credentials_changed", "circuit", "last_error")
    readonly_fields = ("adapter", "settings", "credentials_changed", "circuit", "last_error")


@admin.register(Flow)
class FlowAdmin(RestrictedGuardedAdmin):
    list_display = ("name", "entity", "source", "stage", "trigger", "updated")
    list_filter = ("entity", "stage", "trigger")
    search_fields = ("name",)
    readonly_fields = ("stage", "mapping", "filters", "pilot_filter", "watermark")
    filter_horizontal = ("targets",)


class ReadOnlyAdmin(admin.ModelAdmin):
    """The run log is written by workers; people act on it through the pages (replay, discard)."""

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user, "view")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "stage", "trigger", "status", "read", "queued_at")
    list_filter = ("status", "stage", "trigger")
    list_select_related = ("flow",)


@admin.register(RecordOutcome)
class RecordOutcomeAdmin(ReadOnlyAdmin):
    list_display = ("external_id", "flow", "target", "status", "attempts", "error_class", "updated_at")
    list_filter = ("status",)
    search_fields = ("external_id",)
    list_select_related = ("flow", "target")
    show_full_result_count = False  # no COUNT(*) over millions of rows per page
