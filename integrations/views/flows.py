"""Flow pages: list, detail (overview, rules, stage controls, run now, recent runs),
add/edit, the mapping editor with its live preview, and the stage and run actions.

Actions are POST-only and need ``change`` on the flow (by role or by a grant):
a flow the person may not change is a 404, as everywhere.
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views import View
from django.views.generic import UpdateView

from accounts import generic

from .. import services
from ..choices import Stage
from ..engine import actions
from ..filtersets import FlowFilterSet
from ..forms import FlowForm, FlowMappingForm, PreviewForm
from ..models import Flow, Run
from ..tables import FlowTable
from .common import ProtectedDeleteView

RECENT_RUNS = 10
# What each stage means for the records, shown beside the stage buttons.
STAGE_HELP = {
    Stage.DRAFT: "Being built: it does not run.",
    Stage.TEST: "Dry runs: reads the source and reports what would change; writes nothing to targets.",
    Stage.PILOT: "Writes to targets, but only records matching the pilot filter.",
    Stage.LIVE: "Writes every record that passes the filters to its targets.",
    Stage.PAUSED: "Stopped: no runs start until it is moved on.",
}
SAMPLE = '{\n  "id": "C-1",\n  "first_name": "Ada",\n  "last_name": "Lovelace",\n  "email": "ada@example.com"\n}'


def latest_run():
    return Prefetch("runs", queryset=Run.objects.order_by("-pk")[:1], to_attr="latest_runs")


class FlowListView(generic.ObjectListView):
    model = Flow
    queryset = Flow.objects.select_related("source").prefetch_related("targets", latest_run())
    table_class = FlowTable
    filterset_class = FlowFilterSet


def transitions(flow: Flow) -> list[dict]:
    """The stages ``flow`` may move to next, in rollout order, with what each means."""
    order = list(Stage)
    allowed = sorted(actions.TRANSITIONS.get(flow.stage, ()), key=order.index)
    return [{"value": s.value, "label": Stage(s).label, "help": STAGE_HELP[Stage(s)]} for s in allowed]


class FlowDetailView(generic.ObjectDetailView):
    model = Flow
    queryset = Flow.objects.select_related("source__system").prefetch_related("targets__system")
    template_name = "integrations/flow_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        flow = self.object
        context.update(
            stages=[(s, label) for s, label in Stage.choices if s != Stage.PAUSED or flow.stage == Stage.PAUSED],
            transitions=transitions(flow),
            stage_help=STAGE_HELP[Stage(flow.stage)],
            recent_runs=services.visible_runs(self.request.user)
            .filter(flow=flow)
            .select_related("requested_by")
            .order_by("-pk")[:RECENT_RUNS],
        )
        return context


class FlowFormMixin:
    model = Flow
    form_class = FlowForm
    template_name = "integrations/flow_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}


class FlowCreateView(FlowFormMixin, generic.ObjectCreateView):
    def form_valid(self, form):
        response = super().form_valid(form)
        services.grant_creator(self.object, self.request.user)
        return response


class FlowUpdateView(FlowFormMixin, generic.ObjectUpdateView):
    pass


class FlowDeleteView(ProtectedDeleteView):
    model = Flow
    protected_message = "“{object}” has runs, so it is kept for the record: pause it instead."


class FlowMappingView(generic.RestrictedObjectMixin, UpdateView):
    """The mapping editor: rules, filters and pilot filter as JSON, errors per rule, and a live preview."""

    model = Flow
    action = "change"
    form_class = FlowMappingForm
    template_name = "integrations/flow_mapping.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["preview_form"] = PreviewForm(initial={"sample": SAMPLE})
        return context

    def get_success_url(self):
        return reverse("integrations:flow_mapping", args=[self.object.pk])

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, f"Saved the mapping of “{self.object}”.")
        return response


class FlowPreviewView(LoginRequiredMixin, View):
    """POST (htmx): the sample record through cleansing and the mapping *as edited* (unsaved)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        flow = get_object_or_404(Flow.objects.restrict(request.user, "change").select_related("source"), pk=pk)
        sample = PreviewForm(request.POST)
        rules = FlowMappingForm(request.POST, instance=flow) if "mapping" in request.POST else None
        context = {"sample_form": sample, "rules_form": rules, "result": None}
        if sample.is_valid() and (rules is None or rules.is_valid()):
            if rules is not None:
                # The preview uses what is in the editor; nothing is saved.
                flow.mapping, flow.filters = rules.cleaned_data["mapping"], rules.cleaned_data["filters"]
            context["result"] = actions.preview(flow, sample.cleaned_data["sample"])
            context["unmapped"] = unmapped_targets(flow.mapping, context["result"])
        return render(request, "integrations/includes/flow_preview.html", context)


def unmapped_targets(rules: list[dict], result: dict) -> list[str]:
    """Target fields a rule gave no value for this sample (so they are left out of what is sent)."""
    if "mapped" not in result:
        return []
    return [rule["target"] for rule in rules if rule["target"] not in result["mapped"]]


class FlowActionView(LoginRequiredMixin, View):
    """POST-only action on a flow the person may change."""

    http_method_names = ["post"]

    def get_flow(self) -> Flow:
        return get_object_or_404(Flow.objects.restrict(self.request.user, "change"), pk=self.kwargs["pk"])


class FlowPromoteView(FlowActionView):
    def post(self, request, pk):
        flow = self.get_flow()
        before = flow.get_stage_display()
        try:
            services.promote_flow(flow, request.POST.get("stage", ""), request.user)
        except services.ActionError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"“{flow}” moved from {before} to {flow.get_stage_display()}.")
        return redirect(flow)


class FlowRunView(FlowActionView):
    def post(self, request, pk):
        flow = self.get_flow()
        try:
            run = services.run_flow(flow, request.user)
        except services.ActionError as exc:
            messages.error(request, str(exc))
            return redirect(flow)
        kind = "dry run" if run.dry_run else "run"
        messages.success(request, format_html("Started {} #{} of “{}”.", kind, run.pk, flow))
        return redirect(run)


__all__ = [
    "FlowCreateView",
    "FlowDeleteView",
    "FlowDetailView",
    "FlowListView",
    "FlowMappingView",
    "FlowPreviewView",
    "FlowPromoteView",
    "FlowRunView",
    "FlowUpdateView",
]
