import django_tables2 as tables
from django.template.loader import render_to_string
from django.utils.html import format_html, format_html_join

from .models import Connector, Flow, Reconciliation, Run, System

ATTRS = {"class": "table table-hover align-middle"}


def badge(template: str, **context) -> str:
    return render_to_string(f"integrations/includes/{template}", context)


class SystemTable(tables.Table):
    name = tables.Column(linkify=True)
    owner = tables.Column(default="—")
    updated = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name="Last changed")

    class Meta:
        model = System
        fields = ("name", "kind", "environment", "owner", "updated")
        attrs = ATTRS
        empty_text = "No systems match."


class ConnectorTable(tables.Table):
    name = tables.Column(linkify=True)
    system = tables.Column(linkify=True)
    adapter = tables.Column(accessor="adapter_label", order_by="adapter")
    enabled = tables.BooleanColumn(yesno="✓,—")
    circuit = tables.Column(verbose_name="Circuit")
    last_error = tables.Column(default="—", orderable=False, attrs={"td": {"class": "text-break small jn-clip"}})

    class Meta:
        model = Connector
        fields = ("name", "system", "adapter", "enabled", "circuit", "last_error")
        attrs = ATTRS
        empty_text = "No connectors match."

    def render_circuit(self, record):
        return badge("circuit_badge.html", connector=record)

    def render_last_error(self, value):
        return value[:160] + ("…" if len(value) > 160 else "")


class FlowTable(tables.Table):
    name = tables.Column(linkify=True)
    route = tables.Column(empty_values=(), orderable=False, verbose_name="Source → targets")
    stage = tables.Column()
    last_run = tables.Column(empty_values=(), orderable=False, verbose_name="Last run")

    class Meta:
        model = Flow
        fields = ("name", "entity", "route", "stage", "trigger", "last_run")
        attrs = ATTRS
        empty_text = "No flows match."

    def render_route(self, record):
        targets = format_html_join(", ", "{}", ((t.name,) for t in record.targets.all()))
        return format_html('{} <i class="bi bi-arrow-right" aria-label="to"></i> {}', record.source.name, targets)

    def render_stage(self, record):
        return badge("stage_badge.html", stage=record.stage, label=record.get_stage_display())

    def render_last_run(self, record):
        runs = getattr(record, "latest_runs", None)
        if runs is None:
            runs = list(record.runs.order_by("-pk")[:1])
        if not runs:
            return format_html('<span class="text-body-secondary">Never run</span>')
        return badge("run_summary.html", run=runs[0])


NOWRAP = {"td": {"class": "text-nowrap"}}


class RunTable(tables.Table):
    id = tables.Column(linkify=True, verbose_name="Run")
    flow = tables.Column(linkify=True)
    stage = tables.Column(attrs=NOWRAP)
    status = tables.Column(attrs=NOWRAP)
    counts = tables.Column(empty_values=(), orderable=False, verbose_name="Records")
    requested_by = tables.Column(default="—", verbose_name="By")
    queued_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name="Started", attrs=NOWRAP)

    class Meta:
        model = Run
        fields = ("id", "flow", "stage", "trigger", "status", "counts", "requested_by", "queued_at")
        attrs = ATTRS
        empty_text = "No runs match."
        order_by = ("-id",)

    def render_id(self, value):
        return f"#{value}"

    def render_status(self, record):
        return badge("run_status_badge.html", run=record)

    def render_counts(self, record):
        return badge("run_counts.html", run=record)

    def render_requested_by(self, value):
        return value.get_username()


NUMBER = {"th": {"class": "text-end"}, "td": {"class": "text-end"}}


class ReconciliationTable(tables.Table):
    id = tables.Column(linkify=True, verbose_name="#")
    target = tables.Column(linkify=True)
    status = tables.Column(attrs=NOWRAP)
    requested_by = tables.Column(default="schedule", verbose_name="Started by")
    queued_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name="When", attrs=NOWRAP)
    delivered = tables.Column(attrs=NUMBER)
    present = tables.Column(attrs=NUMBER)
    missing_count = tables.Column(attrs=NUMBER, verbose_name="Gone")

    class Meta:
        model = Reconciliation
        fields = ["id", "target", "entity", "status", "requested_by", "queued_at"]
        fields += ["delivered", "present", "missing_count"]
        attrs = ATTRS
        empty_text = "No reconciliations match."
        order_by = ("-id",)

    def render_id(self, value):
        return f"#{value}"

    def render_status(self, record):
        return badge("reconciliation_status_badge.html", reconciliation=record)

    def render_requested_by(self, value):
        return value.get_username()

    def render_delivered(self, record):
        return "—" if record.status != "done" else f"{record.delivered:,}"

    def render_present(self, record):
        return "—" if record.status != "done" else f"{record.present:,}"

    def render_missing_count(self, record):
        return badge("reconciliation_gone.html", reconciliation=record)
