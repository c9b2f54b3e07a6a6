from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse, JsonResponse
from django.views import View
from django.views.generic import TemplateView

from integrations.models import System

from . import services
from .choices import Component
from .health import run_checks
from .models import Heartbeat
from .views_alerts import alert_summary

POLL_SECONDS = 10


class HealthView(View):
    """``GET /healthz``: 200 when database, broker, a worker and the scheduler are
    alive, 503 naming what is down. Public on purpose (load balancers), so it
    shows only which component is up; details (worker names, broker address,
    error text) go to people who may view heartbeats."""

    def get(self, request):
        report = run_checks(with_detail=request.user.has_perm("monitoring.view_heartbeat"))
        response = JsonResponse(report, status=200 if report["status"] == "ok" else 503)
        response["Cache-Control"] = "no-store"
        return response


class HomeView(LoginRequiredMixin, TemplateView):
    """The dashboard: integration health of the flows the person may view, open alerts, the
    dead-letter queue, duplicates waiting for review, workers. With ``partial`` only the health panel,
    which the page fetches again every ``POLL_SECONDS`` (htmx) without reloading."""

    template_name = "monitoring/home.html"
    partial_template_name = "monitoring/includes/health_panel.html"
    partial = False

    def handle_no_permission(self):
        if self.partial and self.request.htmx:
            # Signed out while the page polled: reload it (to the sign-in page) instead of
            # swapping the sign-in form into the panel.
            return HttpResponse(headers={"HX-Refresh": "true"})
        return super().handle_no_permission()

    def get_template_names(self):
        return [self.partial_template_name if self.partial else self.template_name]

    def get_context_data(self, **kwargs):
        user = self.request.user
        context = super().get_context_data(**kwargs)
        context.update(
            health=services.integration_health(user),
            duplicates=services.open_duplicates(user),
            alerts=alert_summary(user),
            system_count=System.objects.restrict(user).count(),
            workers_alive=Heartbeat.objects.filter(component=Component.WORKER).alive().count(),
            can_add_system=user.has_perm("integrations.add_system"),
            can_add_flow=user.has_perm("integrations.add_flow"),
            poll_seconds=POLL_SECONDS,
        )
        return context
