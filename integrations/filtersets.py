"""Filters for the integration lists and API endpoints.

Choices that name objects (flows, systems) list only those the person may
view: a filter must not reveal what ``restrict()`` hides.
"""

import django_filters
from django import forms
from django.db.models import Q

from config.ordering import one_value

from .adapters import registry
from .choices import (
    CircuitState,
    Environment,
    FlowEntity,
    OutcomeStatus,
    ReconciliationStatus,
    RunStatus,
    Stage,
    SystemKind,
    Trigger,
)
from .models import Connector, Flow, Reconciliation, RecordOutcome, Run, System

DATE = forms.DateInput(attrs={"type": "date"})


def visible_flows(request):
    return Flow.objects.restrict(request.user if request else None, "view").order_by("name")


def visible_systems(request):
    return System.objects.restrict(request.user if request else None, "view").order_by("name")


def reconciled_targets(request):
    """Connectors the person may view that have been reconciled: the only useful choices."""
    connectors = Connector.objects.restrict(request.user if request else None, "view")
    return connectors.filter(pk__in=Reconciliation.objects.values("target")).order_by("name")


class SystemFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    kind = django_filters.ChoiceFilter(choices=SystemKind.choices, empty_label="Any kind")
    environment = django_filters.ChoiceFilter(choices=Environment.choices, empty_label="Any environment")

    class Meta:
        model = System
        fields = ["q", "kind", "environment"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(notes__icontains=value))


class ConnectorFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Search")
    system = django_filters.ModelChoiceFilter(queryset=visible_systems, empty_label="Any system")
    adapter = django_filters.ChoiceFilter(choices=registry.choices, empty_label="Any adapter")
    circuit = django_filters.ChoiceFilter(choices=CircuitState.choices, empty_label="Any circuit state")

    class Meta:
        model = Connector
        fields = ["q", "system", "adapter", "circuit"]


class FlowFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Search")
    entity = django_filters.ChoiceFilter(choices=FlowEntity.choices, empty_label="Any entity")
    stage = django_filters.ChoiceFilter(choices=Stage.choices, empty_label="Any stage")
    trigger = django_filters.ChoiceFilter(choices=Trigger.choices, empty_label="Any trigger")

    class Meta:
        model = Flow
        fields = ["q", "entity", "stage", "trigger"]


class RunFilterSet(django_filters.FilterSet):
    flow = django_filters.ModelChoiceFilter(queryset=visible_flows, empty_label="Any flow")
    status = django_filters.ChoiceFilter(choices=RunStatus.choices, empty_label="Any status")
    stage = django_filters.ChoiceFilter(choices=Stage.choices, empty_label="Any stage")
    since = django_filters.DateFilter(field_name="queued_at", lookup_expr="date__gte", label="From", widget=DATE)
    until = django_filters.DateFilter(field_name="queued_at", lookup_expr="date__lte", label="To", widget=DATE)

    class Meta:
        model = Run
        fields = ["flow", "status", "stage", "since", "until"]


class DeadLetterFilterSet(django_filters.FilterSet):
    flow = django_filters.ModelChoiceFilter(queryset=visible_flows, empty_label="Any flow")
    status = django_filters.ChoiceFilter(
        choices=[(OutcomeStatus.DEAD, "Dead-lettered"), (OutcomeStatus.QUARANTINED, "Quarantined")],
        empty_label="Any status",
    )
    error_class = django_filters.CharFilter(lookup_expr="iexact", label="Error class")
    q = django_filters.CharFilter(method="search", label="Search id or error")

    class Meta:
        model = RecordOutcome
        fields = ["flow", "status", "error_class", "q"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(external_id__icontains=value) | Q(error_message__icontains=value))


class OutcomeFilterSet(django_filters.FilterSet):
    """API: by id numbers, so a filter never confirms that someone else's run exists."""

    run = django_filters.NumberFilter(method="filter_run")
    flow = django_filters.NumberFilter(field_name="flow_id")
    status = django_filters.MultipleChoiceFilter(choices=OutcomeStatus.choices, method="filter_status")
    error_class = django_filters.CharFilter(lookup_expr="iexact")
    external_id = django_filters.CharFilter()

    class Meta:
        model = RecordOutcome
        fields = ["run", "flow", "status", "error_class", "external_id"]

    # A run's records (of one status) are read from the run's own index whatever the
    # statistics say, as on the run page (config.ordering).
    def filter_run(self, queryset, name, value):
        return queryset.filter(one_value("run_id", value)).lead_order("run_id")

    def filter_status(self, queryset, name, value):
        if len(value) == 1 and self.form.cleaned_data.get("run") is not None:
            return queryset.filter(one_value("status", value[0])).lead_order("run_id", "status")
        return queryset.filter(status__in=value)


class RunApiFilterSet(RunFilterSet):
    flow = django_filters.NumberFilter(field_name="flow_id")
    trigger = django_filters.CharFilter()

    class Meta(RunFilterSet.Meta):
        fields = ["flow", "status", "stage", "trigger", "since", "until"]


class ReconciliationFilterSet(django_filters.FilterSet):
    target = django_filters.ModelChoiceFilter(queryset=reconciled_targets, empty_label="Any target")
    entity = django_filters.ChoiceFilter(choices=FlowEntity.choices, empty_label="Any entity")
    status = django_filters.ChoiceFilter(choices=ReconciliationStatus.choices, empty_label="Any status")

    class Meta:
        model = Reconciliation
        fields = ["target", "entity", "status"]


class ReconciliationApiFilterSet(ReconciliationFilterSet):
    """API: the target by id number (the queryset is already narrowed to visible connectors)."""

    target = django_filters.NumberFilter(field_name="target_id")
