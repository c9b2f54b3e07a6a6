"""The auditor's pages over django-auditlog's trail: read-only, by model permission.

Unlike the domain apps, these views do not go through ``restrict()``: the
trail is one record of everything, and the role matrix gives
``auditlog.view_logentry`` only to Administrator and Auditor. Everyone else
gets a 403 (not a 404): the page's existence is no secret, only its rows.
Every view here answers GET only; the trail is changed by nobody's request.
"""

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.generic import DetailView, View
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from .changes import change_rows, event_details
from .choices import AuditEvent
from .events import record_event
from .export import FORMATS
from .filtersets import LogEntryFilterSet
from .models import ChainCheck
from .tables import LogEntryTable


class LogEntryViewMixin(LoginRequiredMixin, PermissionRequiredMixin):
    permission_required = "auditlog.view_logentry"
    queryset = LogEntry.objects.select_related("actor", "content_type")
    http_method_names = ["get", "head", "options"]


class LogEntryListView(LogEntryViewMixin, SingleTableMixin, FilterView):
    table_class = LogEntryTable
    filterset_class = LogEntryFilterSet
    template_name = "audit/logentry_list.html"

    def get_table_pagination(self, table):
        # Paginate the table only: ListView's own paginate_by would count and slice the rows a second time.
        return {"per_page": settings.PAGINATE_BY}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filters = self.request.GET.copy()
        for key in ("page", "sort"):
            filters.pop(key, None)
        context["is_filtered"] = any(v for v in filters.values())
        context["export_query"] = filters.urlencode()
        context["chain_check"] = ChainCheck.objects.first()
        return context


class LogEntryDetailView(LogEntryViewMixin, DetailView):
    template_name = "audit/logentry_detail.html"
    context_object_name = "entry"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["changes"] = change_rows(self.object)
        context["event"], context["details"] = event_details(self.object)
        return context


class LogEntryExportView(LogEntryViewMixin, View):
    """The filtered trail as a streamed download; the export itself is recorded first."""

    def get(self, request, format):
        if format not in FORMATS:
            raise Http404("No such export format.")
        filterset = LogEntryFilterSet(request.GET, queryset=LogEntry.objects.all(), request=request)
        if not filterset.is_valid():
            errors = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in filterset.form.errors.items())
            return HttpResponse(f"Correct the filters: {errors}", status=400, content_type="text/plain")
        queryset = filterset.qs
        filters = {key: value for key, value in filterset.form.cleaned_data.items() if value not in (None, "")}
        record_event(
            AuditEvent.EXPORTED,
            request=request,
            repr_="Audit trail",
            format=format,
            filters={key: str(getattr(value, "pk", value)) for key, value in filters.items()},
            rows=queryset.count(),
        )
        chunks, content_type = FORMATS[format]
        response = StreamingHttpResponse(chunks(queryset), content_type=content_type)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="audit-trail-{stamp}.{format}"'
        return response
