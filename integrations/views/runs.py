"""Runs: the list, one run's counts, progress and record outcomes, and one outcome.

Counts come from the run's own counters, never from counting outcome rows;
outcomes are paged by id (``?after=<id>``), so a run of a million records
costs the same per page as a run of ten. People without
``view_recordoutcome`` (viewers) see the counts but no records.
"""

from dataclasses import dataclass

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse
from django.views.generic import DetailView

from accounts import generic
from config.ordering import one_value

from .. import services
from ..choices import OutcomeStatus, RunStatus
from ..filtersets import RunFilterSet
from ..models import RecordOutcome, Run
from ..tables import RunTable
from .common import keyset_page, may

OUTCOMES_PER_PAGE = 50


@dataclass(frozen=True)
class Segment:
    name: str
    label: str
    colour: str  # a Bootstrap background utility
    help: str = ""
    # True: only dry runs have it; False: only runs that write; None: both.
    dry_run: bool | None = None


SEGMENTS = (
    Segment("created", "Created", "bg-success", "new records on a target", dry_run=False),
    Segment("updated", "Updated", "bg-primary", "changed on a target", dry_run=False),
    Segment("planned", "Planned", "bg-info", "changes a live run would make", dry_run=True),
    Segment("unchanged", "Unchanged", "bg-secondary", "already up to date"),
    Segment("filtered", "Filtered", "bg-light border", "left out by the filters"),
    Segment("quarantined", "Quarantined", "bg-warning", "bad data or mapping, not sent"),
    # A target's refusal leaves the record quarantined too: the help says so, or the two counts puzzle people.
    Segment("failed", "Failed", "bg-danger", "refused by a target (quarantined)", dry_run=False),
    Segment("dead_lettered", "Dead-lettered", "bg-dark", "gave up after retries", dry_run=False),
)
# Outcome status tabs on a run: (query value, label, statuses); dry runs only plan or quarantine.
STATUS_TABS = (
    ("", "All", ()),
    ("delivered", "Delivered", (OutcomeStatus.DELIVERED,)),
    ("waiting", "Waiting", (OutcomeStatus.PENDING, OutcomeStatus.RETRYING)),
    ("quarantined", "Quarantined", (OutcomeStatus.QUARANTINED,)),
    ("dead", "Dead-lettered", (OutcomeStatus.DEAD,)),
    ("discarded", "Discarded", (OutcomeStatus.DISCARDED,)),
)
DRY_RUN_TABS = (
    ("", "All", ()),
    ("planned", "Planned", (OutcomeStatus.PLANNED,)),
    ("quarantined", "Quarantined", (OutcomeStatus.QUARANTINED,)),
)


class RunListView(generic.ObjectListView):
    model = Run
    table_class = RunTable
    filterset_class = RunFilterSet

    def get_queryset(self):
        return services.visible_runs(self.request.user).select_related("flow", "requested_by")


def count_cards(run: Run) -> list[dict]:
    """The counters that can move in this kind of run: a dry run only plans, a live run never does."""
    segments = [s for s in SEGMENTS if s.dry_run in (None, run.dry_run)]
    total = sum(getattr(run, s.name) for s in segments)
    return [
        {
            "segment": s,
            "count": getattr(run, s.name),
            "percent": round(100 * getattr(run, s.name) / total, 2) if total else 0,
        }
        for s in segments
    ]


def progress_percent(run: Run, targets: int) -> int:
    """How far the run is, from its counters: settled outcomes of those expected (capped until finished)."""
    if run.finished:
        return 100
    if run.status != RunStatus.DELIVERING or not run.read:
        return 0
    settled = sum(getattr(run, name) for name in ("created", "updated", "unchanged", "planned", "failed"))
    settled += run.quarantined + run.dead_lettered
    expected = max(1, (run.read - run.filtered) * max(1, targets))
    return min(99, round(100 * settled / expected))


class RunDetailView(LoginRequiredMixin, DetailView):
    """One run; with ``partial`` (the htmx poll every 2 s) only its status, progress and counts."""

    template_name = "integrations/run_detail.html"
    partial_template_name = "integrations/includes/run_progress.html"
    partial = False

    def get_queryset(self):
        return services.visible_runs(self.request.user).select_related("flow", "requested_by")

    def get_template_names(self):
        return [self.partial_template_name if self.partial else self.template_name]

    def render_to_response(self, context, **kwargs):
        if self.partial and self.object.finished and self.request.htmx:
            # The poll saw the run finish: reload once, so the outcomes appear; the new page does not poll.
            return HttpResponse(headers={"HX-Refresh": "true"})
        return super().render_to_response(context, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run, user = self.object, self.request.user
        context.update(
            cards=count_cards(run),
            progress=progress_percent(run, run.flow.targets.count()) if not run.finished else 100,
            can_change=may(user, run.flow, "change"),
        )
        if not self.partial:
            context.update(self.outcomes(run))
        return context

    def outcomes(self, run: Run) -> dict:
        user = self.request.user
        if not user.has_perm("integrations.view_recordoutcome"):
            return {"may_see_outcomes": False}
        tabs = DRY_RUN_TABS if run.dry_run else STATUS_TABS
        tab = self.request.GET.get("status", "")
        statuses = {value: s for value, _, s in tabs}.get(tab, ())
        # Read from the run's own indexes whatever the statistics say (config.ordering): the
        # whole run from (run, id), a tab one status at a time from (run, status, id).
        queryset = RecordOutcome.objects.restrict(user, "view").filter(one_value("run_id", run.pk))
        queryset = queryset.select_related("target").defer("payload", "mapped")
        if statuses:
            parts = [queryset.filter(one_value("status", s)).lead_order("run_id", "status") for s in statuses]
        else:
            parts = [queryset.lead_order("run_id")]
        page = keyset_page(parts, self.request.GET.get("after"), OUTCOMES_PER_PAGE)
        return {"may_see_outcomes": True, "tabs": tabs, "tab": tab, "page": page}


class OutcomeDetailView(LoginRequiredMixin, DetailView):
    """One record's journey to one target: as sent, as mapped, the dry-run diff, the error, the attempts."""

    template_name = "integrations/outcome_detail.html"
    context_object_name = "outcome"

    def get_queryset(self):
        return services.visible_outcomes(self.request.user).select_related("run", "flow", "target")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        outcome = self.object
        context["can_act"] = (
            outcome.status in services.WAITING
            and not outcome.dry_run
            and may(self.request.user, outcome.flow, "change")
        )
        return context


__all__ = ["OutcomeDetailView", "RunDetailView", "RunListView"]
