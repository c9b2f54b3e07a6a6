"""Filters for the stewardship pages and the master-data API.

Choices that list systems are limited to the systems the person may view, so a
filter never reveals a system's name that ``restrict()`` would hide.
"""

from datetime import timedelta

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from integrations.models import System

from .entities import Entity
from .models import DuplicateCandidate, GoldenRecord, SourceRecord

AGE_CHOICES = [
    ("today", "Proposed in the last 24 hours"),
    ("week", "Proposed in the last 7 days"),
    ("over_week", "Waiting more than 7 days"),
    ("over_month", "Waiting more than 30 days"),
]
AGE_BOUNDS = {  # choice -> (lookup on "created", days)
    "today": ("gte", 1),
    "week": ("gte", 7),
    "over_week": ("lt", 7),
    "over_month": ("lt", 30),
}


def visible_systems(request):
    """The systems a filter or form may name for this person."""
    if request is None:
        return System.objects.none()
    return System.objects.restrict(request.user, "view").order_by("name")


@extend_schema_field(OpenApiTypes.INT)
class SystemFilter(django_filters.ModelChoiceFilter):
    """A system by id (the API schema says so: the filtering is done by a method)."""


def score_input():
    return forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "1", "placeholder": "0.00–1.00"})


class DuplicateCandidateFilterSet(django_filters.FilterSet):
    entity = django_filters.ChoiceFilter(choices=Entity.choices, empty_label="Any entity")
    min_score = django_filters.NumberFilter(
        field_name="score", lookup_expr="gte", label="Score at least", widget=score_input()
    )
    max_score = django_filters.NumberFilter(
        field_name="score", lookup_expr="lte", label="Score at most", widget=score_input()
    )
    system = SystemFilter(
        queryset=visible_systems, method="filter_system", label="Source system", empty_label="Any system"
    )
    age = django_filters.ChoiceFilter(choices=AGE_CHOICES, method="filter_age", label="Age", empty_label="Any age")

    class Meta:
        model = DuplicateCandidate
        fields = ["entity", "min_score", "max_score", "system", "age"]

    def filter_system(self, queryset, name, system):
        # Either side counts: a pair is "from the web shop" if one of its records came from there.
        # IN (subquery), not a correlated EXISTS: the database reads the system's records once,
        # instead of once per pair through the (system, entity, external_id) index.
        goldens = SourceRecord.objects.filter(system=system, golden__isnull=False).values("golden_id")
        return queryset.filter(Q(left__in=goldens) | Q(right__in=goldens))

    def filter_age(self, queryset, name, value):
        lookup, days = AGE_BOUNDS[value]
        return queryset.filter(**{f"created__{lookup}": timezone.now() - timedelta(days=days)})


class GoldenRecordFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Name")
    entity = django_filters.ChoiceFilter(choices=Entity.choices, empty_label="Any entity")
    merged = django_filters.BooleanFilter(
        method="filter_merged",
        label="Merged records",
        widget=forms.Select(choices=[("", "Hide merged away"), ("true", "Only merged away")]),
    )

    class Meta:
        model = GoldenRecord
        fields = ["q", "entity", "merged"]

    def search(self, queryset, name, value):
        # Anywhere in the name: people search a customer by surname as often as by first name.
        return queryset.filter(display_name__icontains=value.strip())

    def filter_merged(self, queryset, name, value):
        return queryset.filter(merged_into__isnull=not value)

    @property
    def qs(self):
        queryset = super().qs
        # Unbound (no query string) there is no cleaned_data: the default applies too.
        if getattr(self.form, "cleaned_data", {}).get("merged") is None:
            queryset = queryset.filter(merged_into__isnull=True)  # by default only the records in use
        return queryset


class SourceRecordFilterSet(django_filters.FilterSet):
    entity = django_filters.ChoiceFilter(choices=Entity.choices, empty_label="Any entity")
    system = django_filters.ModelChoiceFilter(queryset=visible_systems, empty_label="Any system")
    q = django_filters.CharFilter(field_name="external_id", lookup_expr="icontains", label="External id")

    class Meta:
        model = SourceRecord
        fields = ["entity", "system", "q"]
