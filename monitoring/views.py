from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import JsonResponse
from django.views import View
from django.views.generic import TemplateView

from integrations.models import System

from .choices import Component
from .health import run_checks
from .models import Heartbeat


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
    template_name = "monitoring/home.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        context = super().get_context_data(**kwargs)
        context["system_count"] = System.objects.restrict(user).count()
        context["workers_alive"] = Heartbeat.objects.filter(component=Component.WORKER).alive().count()
        context["can_add_system"] = user.has_perm("integrations.add_system")
        context["recent_systems"] = System.objects.restrict(user).order_by("-updated")[:5]
        return context
