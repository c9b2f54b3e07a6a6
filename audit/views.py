from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.views.generic import TemplateView


class LogEntryListView(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    permission_required = "auditlog.view_logentry"
    template_name = "audit/logentry_list.html"
