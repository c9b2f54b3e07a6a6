import django_filters
from auditlog.models import LogEntry
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils.text import capfirst

from .forms import LogEntryFilterForm

ACTION_CHOICES = [(value, capfirst(label)) for value, label in LogEntry.Action.choices]


def logged_content_types(request):
    """Only types that have entries: the full list would offer hundreds of dead ends.
    A callable, so a type gets listed as soon as its first change is logged."""
    logged = LogEntry.objects.values("content_type_id")
    return ContentType.objects.filter(pk__in=logged).order_by("app_label", "model")


def date_input():
    # A fixed ISO format: the browser's date picker accepts nothing else.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class LogEntryFilterSet(django_filters.FilterSet):
    actor = django_filters.CharFilter(method="filter_actor", label="Actor")
    action = django_filters.ChoiceFilter(choices=ACTION_CHOICES, empty_label="Any action")
    content_type = django_filters.ModelChoiceFilter(
        queryset=logged_content_types, label="Object type", empty_label="Any type"
    )
    q = django_filters.CharFilter(method="search", label="Object id or name")
    date_from = django_filters.DateFilter(
        field_name="timestamp", lookup_expr="date__gte", label="From", widget=date_input()
    )
    date_to = django_filters.DateFilter(
        field_name="timestamp", lookup_expr="date__lte", label="To", widget=date_input()
    )

    class Meta:
        model = LogEntry
        form = LogEntryFilterForm
        fields = ["actor", "action", "content_type", "q", "date_from", "date_to"]

    def filter_actor(self, queryset, name, value):
        # actor_email is kept on the entry, so changes by a since-deleted user stay findable.
        return queryset.filter(Q(actor__username__icontains=value) | Q(actor_email__icontains=value))

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(object_pk=value) | Q(object_repr__icontains=value))
