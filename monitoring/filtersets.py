"""Filters for the alerts page and ``/api/v1/alerts/``.

``status`` takes the three states of an alert plus ``unresolved`` (open or
acknowledged) and ``all``. The page shows unresolved alerts unless asked
otherwise; the API lists every alert unless filtered. Flows and connectors are
filtered by id number (API), so a filter never confirms that something the
caller may not view exists: the queryset was already narrowed by
``visible_alerts``.
"""

import django_filters

from .choices import AlertKind, AlertStatus, Severity
from .models import Alert

UNRESOLVED, ALL = "unresolved", "all"
STATUS_CHOICES = [
    (UNRESOLVED, "Open or acknowledged"),
    (AlertStatus.OPEN, "Open"),
    (AlertStatus.ACKNOWLEDGED, "Acknowledged"),
    (AlertStatus.RESOLVED, "Resolved"),
    (ALL, "All"),
]


class AlertFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=STATUS_CHOICES, method="by_status", empty_label=None, label="Status")
    severity = django_filters.ChoiceFilter(choices=Severity.choices, empty_label="Any severity")
    kind = django_filters.ChoiceFilter(choices=AlertKind.choices, empty_label="Any kind")

    class Meta:
        model = Alert
        fields = ["status", "severity", "kind"]

    def by_status(self, queryset, name, value):
        if value == ALL:
            return queryset
        if value == UNRESOLVED:
            return queryset.unresolved()
        return queryset.with_status(value)


class AlertApiFilterSet(AlertFilterSet):
    status = django_filters.ChoiceFilter(
        choices=STATUS_CHOICES,
        method="by_status",
        label="Status",
        help_text="open, acknowledged, resolved, unresolved (open or acknowledged) or all (the default).",
    )
    flow = django_filters.NumberFilter(field_name="flow_id")
    connector = django_filters.NumberFilter(field_name="connector_id")

    class Meta(AlertFilterSet.Meta):
        fields = ["status", "severity", "kind", "flow", "connector"]
