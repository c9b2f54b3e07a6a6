"""The dashboard's figures: integration health per flow, over the last 24 hours, for one person.

Everything is counted by the database from the runs' own counters (never by
loading runs or outcomes into Python), and always through the permission
choke points of ``integrations.services``: a flow the person may not view
adds nothing to any total, the chart, or the list. The number of queries is
the same for two flows or two thousand, with any number of runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import Case, Count, F, IntegerField, Min, OuterRef, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, TruncHour
from django.utils import timezone

from integrations import services as integrations
from integrations.choices import RunStatus, Stage
from integrations.models import Flow, Run

WINDOW = timedelta(hours=24)
FLOWS_SHOWN = 10  # the dashboard lists the flows that need a look first; the flow list has them all
# What a run's counters add up to: records a target took (or already had), records held back, records given up on.
DELIVERED = F("created") + F("updated") + F("unchanged")
QUARANTINED = F("quarantined") + F("failed")  # a target's refusal leaves the record quarantined too
CHART_STATUSES = (RunStatus.SUCCEEDED, RunStatus.PARTIAL, RunStatus.FAILED)


@dataclass
class Totals:
    delivered: int = 0
    quarantined: int = 0
    dead_lettered: int = 0


@dataclass
class FlowHealth:
    flow: Flow
    last_run: Run | None
    day: Totals
    waiting: int | None  # records in the dead-letter queue; None for people who may not see records

    @property
    def last(self) -> Totals | None:
        """The last run's counters, in the dashboard's three words."""
        run = self.last_run
        if run is None:
            return None
        return Totals(run.created + run.updated + run.unchanged, run.quarantined + run.failed, run.dead_lettered)

    @property
    def needs_attention(self) -> bool:
        problem = self.last_run is not None and self.last_run.status in (RunStatus.PARTIAL, RunStatus.FAILED)
        return problem or bool(self.waiting)


@dataclass
class Health:
    """What one person's dashboard shows; ``None`` marks a figure their role does not show."""

    now: datetime
    flow_count: int
    may_see_runs: bool = False
    flows: list[FlowHealth] = field(default_factory=list)
    day: Totals = field(default_factory=Totals)
    waiting: int | None = None
    chart: dict | None = None


def _sums() -> dict:
    return {
        "delivered": Coalesce(Sum(DELIVERED), 0),
        "quarantined": Coalesce(Sum(QUARANTINED), 0),
        "dead_lettered": Coalesce(Sum("dead_lettered"), 0),
    }


def integration_health(user, now: datetime | None = None) -> Health:
    """Per flow ``user`` may view: the last run and the last 24 hours; totals, the dead-letter queue, the chart."""
    now = now or timezone.now()
    since = now - WINDOW
    flows = integrations.visible_flows(user)
    health = Health(now=now, flow_count=flows.count())
    if not health.flow_count:
        return health
    may_see_runs = health.may_see_runs = user.has_perm("integrations.view_run")
    runs = integrations.visible_runs(user) if may_see_runs else Run.objects.none()
    recent = runs.filter(queued_at__gte=since)
    waiting = waiting_by_flow(user)
    shown = _flows_needing_a_look_first(flows, may_see_runs)
    last_runs = Run.objects.in_bulk([f.last_run_id for f in shown if getattr(f, "last_run_id", None)])
    per_flow = {
        row["flow"]: Totals(row["delivered"], row["quarantined"], row["dead_lettered"])
        for row in recent.exclude(stage=Stage.TEST)  # a dry run delivers nothing
        .filter(flow__in=[f.pk for f in shown])
        .values("flow")
        .annotate(**_sums())
        .order_by()
    }
    health.flows = [
        FlowHealth(
            flow=f,
            last_run=last_runs.get(getattr(f, "last_run_id", None)),
            day=per_flow.get(f.pk, Totals()),
            waiting=None if waiting is None else waiting.get(f.pk, 0),
        )
        for f in shown
    ]
    health.day = Totals(**recent.exclude(stage=Stage.TEST).aggregate(**_sums()))
    health.waiting = None if waiting is None else sum(waiting.values())
    health.chart = runs_per_hour(recent, now) if may_see_runs else None
    return health


def _flows_needing_a_look_first(flows, may_see_runs: bool) -> list[Flow]:
    """The ``FLOWS_SHOWN`` flows to list: a failed or partial last run first, then the most recently run.

    People who may not see runs get the flows by name. Those who may see them hold ``view_run``
    for every run of a flow they may view (``visible_runs``), so the flow's own runs are theirs.
    """
    if not may_see_runs:
        return list(flows.select_related("source").order_by("name")[:FLOWS_SHOWN])
    latest = Run.objects.filter(flow=OuterRef("pk")).order_by("-pk")
    rank = Case(
        When(last_status=RunStatus.FAILED, then=Value(0)),
        When(last_status=RunStatus.PARTIAL, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    annotated = flows.annotate(
        last_run_id=Subquery(latest.values("pk")[:1]), last_status=Subquery(latest.values("status")[:1])
    )
    ordered = annotated.annotate(rank=rank).order_by("rank", F("last_run_id").desc(nulls_last=True), "name")
    return list(ordered.select_related("source")[:FLOWS_SHOWN])


def waiting_by_flow(user) -> dict[int, int] | None:
    """flow id → records waiting in the dead-letter queue; None for people who may not see records."""
    if not user.has_perm("integrations.view_recordoutcome"):
        return None
    waiting = integrations.visible_outcomes(user).filter(status__in=integrations.WAITING, dry_run=False)
    return dict(waiting.values("flow").annotate(n=Count("flow")).order_by().values_list("flow", "n"))


def runs_per_hour(recent, now: datetime) -> dict:
    """Finished runs per hour (UTC hours, the current one last), by how they ended: the chart's data.

    ``hours`` are Unix seconds (the chart's time axis; the browser shows them in local time);
    runs still going are left out until they end.
    """
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    hours = [end - timedelta(hours=n) for n in range(23, -1, -1)]
    series = {status.value: [0] * len(hours) for status in CHART_STATUSES}
    index = {hour: n for n, hour in enumerate(hours)}
    rows = (
        recent.filter(status__in=CHART_STATUSES, queued_at__gte=hours[0])
        .annotate(hour=TruncHour("queued_at", tzinfo=UTC))
        .values("hour", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        n = index.get(row["hour"])
        if n is not None:
            series[row["status"]][n] += row["n"]
    return {
        "hours": [int(hour.timestamp()) for hour in hours],
        "series": [
            {"key": s.value, "label": s.label, "counts": series[s.value], "total": sum(series[s.value])}
            for s in CHART_STATUSES
        ],
        "total": sum(sum(counts) for counts in series.values()),
    }


def open_duplicates(user) -> dict | None:
    """Open duplicate pairs ``user`` may see, and since when the oldest waits; None without the permission."""
    if not user.has_perm("masterdata.view_duplicatecandidate"):
        return None
    from masterdata.views.review import open_candidates

    return open_candidates(user).aggregate(count=Count("pk"), oldest=Min("created"))
