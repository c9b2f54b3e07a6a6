"""Reconciliation pages: the list, one reconciliation (polled while it runs, "Accept these deletions"),
"Reconcile now" on a connector.

A reconciliation compares what Junction delivered to a target with what the
target holds now (``integrations.engine.reconcile``). People see those of the
connectors they may view, with their role's ``view_reconciliation``
(``services.visible_reconciliations``); starting one, or accepting the deletions
one found or having its records sent again, takes ``add_reconciliation`` and
change on the connector (``services.may_reconcile``).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.db.models import Max
from django.shortcuts import get_object_or_404, redirect
from django.utils.html import format_html
from django.views import View
from django.views.generic import DetailView

from accounts import generic

from .. import services
from ..choices import FlowEntity
from ..engine import reconcile
from ..filtersets import ReconciliationFilterSet
from ..models import Connector, Delivery, Flow, Reconciliation
from ..tables import ReconciliationTable


def schedule_phrase() -> str:
    """How often the schedule reconciles each target and entity, for the pages' explanations."""
    hours = settings.JUNCTION_RECONCILE_HOURS
    if hours <= 0:
        return "The daily schedule is switched off here, so they run only when someone starts one."
    every = "once a day" if hours == 24 else f"every {hours} hours"
    return f"Junction runs one by itself {every} for every target and entity it delivers to."


class ReconciliationListView(PermissionRequiredMixin, generic.ObjectListView):
    permission_required = "integrations.view_reconciliation"
    model = Reconciliation
    table_class = ReconciliationTable
    filterset_class = ReconciliationFilterSet
    template_name = "integrations/reconciliation_list.html"

    def get_queryset(self):
        return services.visible_reconciliations(self.request.user).select_related("target", "requested_by")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "schedule": schedule_phrase()}


class ReconciliationDetailView(LoginRequiredMixin, DetailView):
    """One reconciliation; with ``partial`` (the htmx poll every 2 s while it is queued or running)
    only its state, counts and missing records, which stop polling once it has finished."""

    template_name = "integrations/reconciliation_detail.html"
    partial_template_name = "integrations/includes/reconciliation_result.html"
    partial = False
    context_object_name = "reconciliation"

    def get_queryset(self):
        return services.visible_reconciliations(self.request.user).select_related(
            "target", "requested_by", "accepted_by", "resent_by"
        )

    def get_template_names(self):
        return [self.partial_template_name if self.partial else self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        reconciliation = self.object
        context["more"] = max(0, reconciliation.missing_count - len(reconciliation.missing))
        context["may_reconcile"] = reconciliation.finished and services.may_reconcile(
            reconciliation.target, self.request.user
        )
        # Accepting and sending again are the two ways to settle what it found, under the same rules.
        context["may_accept"] = context["may_reconcile"] and acceptable(reconciliation)
        if reconciliation.resent_at:  # the runs of flows this person may see
            runs = services.visible_runs(self.request.user).filter(reconciliation=reconciliation)
            context["resend_runs"] = runs.select_related("flow").order_by("pk")
        return context


def acceptable(reconciliation: Reconciliation) -> bool:
    """Whether the page offers "Accept these deletions" and "Send them again" (the engine's rules)."""
    return reconcile.why_not_acceptable(reconciliation) is None


class _SettleView(LoginRequiredMixin, View):
    """POST: settle what a reconciliation found (``settle``); a refusal is shown on its page with the reason."""

    http_method_names = ["post"]

    def post(self, request, pk):
        stored = get_object_or_404(services.visible_reconciliations(request.user).select_related("target"), pk=pk)
        try:
            self.settle(request, stored)
        except services.ReconcileError as exc:
            messages.error(request, str(exc))
        return redirect(stored)


class ReconciliationAcceptView(_SettleView):
    """Accept the deletions a reconciliation found (Junction forgets it delivered those records)."""

    def settle(self, request, stored):
        forgotten = services.accept_deletions(stored, request.user)
        one = forgotten == 1
        message = "Junction forgot {} record{} it had delivered to “{}”: later reconciliations no longer report {}, "
        message += "and a record that changes at the source is sent again."
        if stored.missing_count > len(stored.missing):
            message += " The records it did not list stay: a new reconciliation is queued to find them."
        words = ("" if one else "s", stored.target, "it" if one else "them")
        messages.success(request, format_html(message, forgotten, *words))


class ReconciliationResendView(_SettleView):
    """Send the records a reconciliation found gone to the target again, as last sent."""

    def settle(self, request, stored):
        result = services.resend_deleted(stored, request.user)
        if result.sent:
            one = result.sent == 1
            message = "{} record{} {} on {} way to “{}” again: follow the run below."
            words = ("" if one else "s", "is" if one else "are", "its" if one else "their", stored.target)
            messages.success(request, format_html(message, result.sent, *words))
        for reason, count in result.left.items():
            message = "{} record{} could not be sent again ({}); Junction forgot {} delivered {}."
            words = ("" if count == 1 else "s", reason, "it", "it" if count == 1 else "them")
            messages.warning(request, format_html(message, count, *words))
        if stored.missing_count > len(stored.missing):
            messages.info(request, "The records it did not list stay: a new reconciliation is queued to find them.")


def delivered_entities(connector: Connector) -> list[str]:
    """The entities Junction delivered (or has flows to deliver) to ``connector``, in the choices' order."""
    found = set(Delivery.objects.filter(target=connector).values_list("entity", flat=True).distinct().order_by())
    found |= set(Flow.objects.filter(targets=connector).values_list("entity", flat=True).distinct().order_by())
    return [value for value in FlowEntity.values if value in found]


def reconciliation_card(connector: Connector, user) -> dict | None:
    """The connector page's "Reconciliation" card: per entity the latest reconciliation the person
    may view; None when the adapter cannot list its keys or the person may neither see nor start one."""
    try:
        supported = reconcile.supported(connector)
    except LookupError:  # an adapter no longer installed
        supported = False
    may_start = supported and services.may_reconcile(connector, user)
    if not supported or not (may_start or user.has_perm("integrations.view_reconciliation")):
        return None
    entities = delivered_entities(connector)
    visible = services.visible_reconciliations(user).filter(target=connector, entity__in=entities)
    latest_ids = visible.order_by().values("entity").annotate(last=Max("pk")).values("last")
    latest = {r.entity: r for r in Reconciliation.objects.filter(pk__in=latest_ids).select_related("requested_by")}
    labels = dict(FlowEntity.choices)
    rows = [{"entity": e, "label": labels[e], "latest": latest.get(e)} for e in entities]
    return {"rows": rows, "may_start": may_start, "schedule": schedule_phrase()}


class ConnectorReconcileView(LoginRequiredMixin, View):
    """POST ``entity``: queue a reconciliation of a connector the person may change, then show it."""

    http_method_names = ["post"]

    def post(self, request, pk):
        connector = get_object_or_404(Connector.objects.restrict(request.user, "change"), pk=pk)
        entity = request.POST.get("entity", "")
        try:
            stored = services.reconcile_target(connector, entity, request.user)
        except services.ReconcileError as exc:
            messages.error(request, str(exc))
            return redirect(connector)
        label = dict(FlowEntity.choices).get(entity, entity).lower()
        message = "Reconciliation #{} of “{}” ({}) queued: a worker compares them next."
        messages.success(request, format_html(message, stored.pk, connector, label))
        return redirect(stored)


__all__ = [
    "ConnectorReconcileView",
    "ReconciliationAcceptView",
    "ReconciliationDetailView",
    "ReconciliationListView",
    "ReconciliationResendView",
    "reconciliation_card",
]
