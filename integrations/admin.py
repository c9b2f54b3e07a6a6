"""Admin for integrations. Connector settings and flow rules are edited on the pages, where the
adapter's schema and the mapping validator check them; here they are read-only. Credentials never
appear (they are not editable fields).

The admin honours the same choke point as pages and API (``restrict()``): a staff member who is
not a superuser sees, in the lists, the change pages, the related-object dropdowns and the
autocompletes, only the objects they may view, and changes or deletes only those they may change
or delete. Access is granted on the object's "Access" tab (one place, with re-authentication and
an access event in the trail); the admin's "Object permissions" link leads there.
"""

from django.contrib import admin
from django.shortcuts import redirect
from django.urls import path, reverse

from . import services
from .models import Connector, Flow, Reconciliation, RecordOutcome, Run, System
from .views.common import may

GUARDED = (System, Connector, Flow)


class RestrictedAdmin(admin.ModelAdmin):
    """Lists, change pages and dropdowns limited by ``restrict()``; object actions by ``may()``."""

    change_form_template = "admin/guardian/model/change_form.html"  # adds the "Object permissions" link

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user, "view")

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return super().has_view_permission(request) or self._granted_any(request, ("view", "change"))
        return may(request.user, obj, "view") or may(request.user, obj, "change")

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return super().has_change_permission(request) or self._granted_any(request, ("change",))
        return may(request.user, obj, "change")

    def has_delete_permission(self, request, obj=None):
        if obj is None:
            return super().has_delete_permission(request) or self._granted_any(request, ("delete",))
        return may(request.user, obj, "delete")

    def has_module_permission(self, request):
        return super().has_module_permission(request) or self.has_view_permission(request)

    def _granted_any(self, request, actions) -> bool:
        """Whether the person holds one of ``actions`` on at least one object (by a grant)."""
        if not request.user.is_active or not request.user.is_staff:
            return False
        model = self.model
        return any(model.objects.restrict(request.user, action).exists() for action in actions)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model in GUARDED:
            kwargs["queryset"] = db_field.related_model.objects.restrict(request.user, "view")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.related_model in GUARDED:
            kwargs["queryset"] = db_field.related_model.objects.restrict(request.user, "view")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        access = path(
            "<int:object_pk>/permissions/",
            self.admin_site.admin_view(self.access_redirect),
            name="{}_{}_permissions".format(*info),
        )
        return [access, *super().get_urls()]

    def access_redirect(self, request, object_pk):
        """The object's Access tab, which decides who may see it (404 for an object out of sight)."""
        return redirect(reverse(f"integrations:{self.model._meta.model_name}_access", args=[object_pk]))


@admin.register(System)
class SystemAdmin(RestrictedAdmin):
    list_display = ("name", "kind", "environment", "owner", "updated")
    list_filter = ("kind", "environment")
    search_fields = ("name", "notes")


@admin.register(Connector)
class ConnectorAdmin(RestrictedAdmin):
    list_display = ("name", "system", "adapter", "enabled", "circuit", "updated")
    list_filter = ("adapter", "enabled", "circuit")
    search_fields = ("name",)
    fields = ("name", "system", "adapter", "enabled", "settings", "credentials_changed", "circuit", "last_error")
    readonly_fields = ("adapter", "settings", "credentials_changed", "circuit", "last_error")


@admin.register(Flow)
class FlowAdmin(RestrictedAdmin):
    list_display = ("name", "entity", "source", "stage", "trigger", "updated")
    list_filter = ("entity", "stage", "trigger")
    search_fields = ("name",)
    readonly_fields = ("stage", "mapping", "filters", "pilot_filter", "watermark")
    filter_horizontal = ("targets",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            # What the flow already uses stays choosable (as on the flow form), or saving would fail.
            used = [obj.source_id, *obj.targets.values_list("pk", flat=True)]
            for name in ("source", "targets"):
                if name in form.base_fields:
                    field = form.base_fields[name]
                    field.queryset = (field.queryset | Connector.objects.filter(pk__in=used)).distinct()
        return form


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the system writes (the run log, reconciliations, alerts); people act on them through
    the pages (replay, discard, acknowledge). Rows are those the person may view, as on the pages."""

    visible = None  # the pages' choke point: services.visible_runs, visible_outcomes, …

    def get_queryset(self, request):
        queryset = type(self).visible(request.user)
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    visible = services.visible_runs
    list_display = ("__str__", "stage", "trigger", "status", "read", "queued_at")
    list_filter = ("status", "stage", "trigger")
    list_select_related = ("flow",)


@admin.register(RecordOutcome)
class RecordOutcomeAdmin(ReadOnlyAdmin):
    visible = services.visible_outcomes
    list_display = ("external_id", "flow", "target", "status", "attempts", "error_class", "updated_at")
    list_filter = ("status",)
    search_fields = ("external_id",)
    list_select_related = ("flow", "target")
    show_full_result_count = False  # no COUNT(*) over millions of rows per page


@admin.register(Reconciliation)
class ReconciliationAdmin(ReadOnlyAdmin):
    visible = services.visible_reconciliations
    list_display = ("__str__", "status", "delivered", "present", "missing_count", "queued_at")
    list_filter = ("status", "entity")
    list_select_related = ("target",)
