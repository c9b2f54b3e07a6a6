"""The alert pages: the list, one alert, acknowledging one; the menu badge and the dashboard tile.

Every alert comes through ``monitoring.alerts.visible_alerts`` (the choke
point): an alert about a flow or connector the person may not view, or about
workers without ``view_heartbeat``, is a 404. Acknowledging needs the alert in
``visible_alerts(user, "change")``; one the person may view but not change is
a 403. With htmx, acknowledging answers with the piece of page that changed
(the list's row, or the detail page's status card) and the menu badge's new
count; without, it redirects back.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import DetailView
from django_filters.views import FilterView

from .alerts import AcknowledgeError, acknowledge, changeable_ids, ordered, visible_alerts
from .choices import AlertStatus, Severity
from .filtersets import UNRESOLVED, AlertFilterSet

ROW_TARGET = "alert-row-"  # the id prefix of the list's rows: an htmx request aimed at one gets the row back


def open_alerts(user):
    """Alerts ``user`` may view that nobody has acknowledged yet and whose condition still holds."""
    return visible_alerts(user).with_status(AlertStatus.OPEN)


def open_count(user) -> int | None:
    """The menu badge: how many open alerts ``user`` may view (None hides the badge)."""
    return open_alerts(user).count() or None


def alert_summary(user) -> dict | None:
    """The dashboard tile: open alerts and how many of them are critical; None without the permission."""
    if not user.has_perm("monitoring.view_alert"):
        return None
    return open_alerts(user).aggregate(open=Count("pk"), critical=Count("pk", filter=Q(severity=Severity.CRITICAL)))


class AlertListView(LoginRequiredMixin, PermissionRequiredMixin, FilterView):
    permission_required = "monitoring.view_alert"
    filterset_class = AlertFilterSet
    template_name = "monitoring/alert_list.html"
    context_object_name = "alerts"

    def get_queryset(self):
        return ordered(visible_alerts(self.request.user)).select_related("flow", "connector", "acknowledged_by")

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        data = self.request.GET.copy()
        if not data.get("status"):
            data["status"] = UNRESOLVED  # what needs a look: open and acknowledged alerts
        kwargs["data"] = data
        return kwargs

    def get_paginate_by(self, queryset):
        return settings.PAGINATE_BY

    def paginate_queryset(self, queryset, page_size):
        # ?page=99 shows the last page (as the tables do) rather than a 404.
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get("page"))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        get = self.request.GET
        context["is_filtered"] = any(
            value for key, value in get.items() if key != "page" and not (key == "status" and value == UNRESOLVED)
        )
        context["changeable"] = changeable_ids(self.request.user, context["alerts"])
        return context


class AlertDetailView(LoginRequiredMixin, DetailView):
    template_name = "monitoring/alert_detail.html"
    context_object_name = "alert"

    def get_queryset(self):
        return visible_alerts(self.request.user).select_related("flow", "connector", "acknowledged_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_acknowledge"] = bool(changeable_ids(self.request.user, [self.object]))
        return context


class AlertAcknowledgeView(LoginRequiredMixin, View):
    """POST: acknowledge one alert, then the changed piece of page (htmx) or a redirect back."""

    http_method_names = ["post"]
    row_template_name = "monitoring/includes/alert_row.html"
    state_template_name = "monitoring/includes/alert_state.html"

    def post(self, request, pk):
        user = request.user
        alert = get_object_or_404(visible_alerts(user).select_related("flow", "connector"), pk=pk)
        if not changeable_ids(user, [alert]):
            raise PermissionDenied("Your role may see this alert but not acknowledge it.")
        try:
            acknowledge(alert, user)
        except AcknowledgeError as exc:
            messages.error(request, str(exc))
        else:
            if not request.htmx:  # with htmx the swapped status says so
                messages.success(request, f"Acknowledged “{alert.title}”.")
        if request.htmx:
            return self.piece(alert)
        return self.back(alert)

    def piece(self, alert):
        row = (self.request.htmx.target or "").startswith(ROW_TARGET)
        # Acknowledged or resolved by now: no button, whoever asks.
        context = {"alert": alert, "may_acknowledge": False, "changeable": set(), "oob": True}
        context["badge"] = open_count(self.request.user)
        return render(self.request, self.row_template_name if row else self.state_template_name, context)

    def back(self, alert):
        target = self.request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(target, {self.request.get_host()}, self.request.is_secure()):
            return redirect(target)
        return redirect(alert)


__all__ = ["AlertAcknowledgeView", "AlertDetailView", "AlertListView", "alert_summary", "open_count"]
