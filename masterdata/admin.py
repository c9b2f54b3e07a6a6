from django.contrib import admin

from .models import DuplicateCandidate, GoldenRecord, ImportJob, Merge, RuleApplication, SourceRecord, SurvivorshipRule


class RestrictedAdmin(admin.ModelAdmin):
    """The admin honours the same choke point as pages and API."""

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user, "view")


@admin.register(GoldenRecord)
class GoldenRecordAdmin(RestrictedAdmin):
    list_display = ("display_name", "entity", "merged_into", "updated")
    list_filter = ("entity",)
    search_fields = ("display_name",)
    raw_id_fields = ("merged_into",)


@admin.register(SourceRecord)
class SourceRecordAdmin(RestrictedAdmin):
    list_display = ("external_id", "system", "entity", "status", "golden", "received_at")
    list_filter = ("entity", "status", "system")
    search_fields = ("external_id",)
    raw_id_fields = ("golden",)


@admin.register(DuplicateCandidate)
class DuplicateCandidateAdmin(RestrictedAdmin):
    list_display = ("__str__", "entity", "score", "status", "created")
    list_filter = ("entity", "status")
    raw_id_fields = ("left", "right")


@admin.register(Merge)
class MergeAdmin(RestrictedAdmin):
    list_display = ("__str__", "actor", "created", "undone_at")
    raw_id_fields = ("survivor", "absorbed", "candidate")


@admin.register(SurvivorshipRule)
class SurvivorshipRuleAdmin(RestrictedAdmin):
    list_display = ("entity", "field", "strategy")
    list_filter = ("entity", "strategy")


@admin.register(ImportJob)
class ImportJobAdmin(RestrictedAdmin):
    list_display = ("filename", "entity", "system", "status", "processed", "total", "created")
    list_filter = ("status", "entity")
    exclude = ("content",)


@admin.register(RuleApplication)
class RuleApplicationAdmin(RestrictedAdmin):
    """Written by the worker; started from the Survivorship rules page or the API."""

    list_display = ("entity", "status", "examined", "changed", "requested_by", "created", "finished")
    list_filter = ("status", "entity")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
