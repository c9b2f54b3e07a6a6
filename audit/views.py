"""The auditor's pages over django-auditlog's trail: read-only, by model permission.

Unlike the domain apps, these views do not go through ``restrict()``: the
trail is one record of everything, and the role matrix gives
``auditlog.view_logentry`` only to Administrator and Auditor. Everyone else
gets a 403 (not a 404): the page's existence is no secret, only its rows.
"""

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.views.generic import DetailView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from .changes import change_rows
from .filtersets import LogEntryFilterSet
from .tables import LogEntryTable


class LogEntryViewMixin(LoginRequiredMixin, PermissionRequiredMixin):
    permission_required = "auditlog.view_logentry"
    queryset = LogEntry.objects.select_related("actor", "content_type")


class LogEntryListView(LogEntryViewMixin, SingleTableMixin, FilterView):
    table_class = LogEntryTable
    filterset_class = LogEntryFilterSet
    template_name = "audit/logentry_list.html"

    def get_table_pagination(self, table):
        # Paginate the table only: ListView's own paginate_by would count and slice the rows a second time.
        return {"per_page": settings.PAGINATE_BY}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["is_filtered"] = any(v for k, v in self.request.GET.items() if k not in {"page", "sort"})
        return context


class LogEntryDetailView(LogEntryViewMixin, DetailView):
    template_name = "audit/logentry_detail.html"
    context_object_name = "entry"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["changes"] = change_rows(self.object)
        return context
