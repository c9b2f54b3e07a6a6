import datetime as dt

import django_filters
from auditlog.models import LogEntry
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone
from django.utils.text import capfirst

from .forms import LogEntryFilterForm

ACTION_CHOICES = [(value, capfirst(label)) for value, label in LogEntry.Action.choices]


def logged_content_types(request):
    """Only types that have entries: the full list would offer hundreds of dead ends.
    A callable, so a type gets listed as soon as its first change is logged."""
    logged = LogEntry.objects.values("content_type_id")
    return ContentType.objects.filter(pk__in=logged).order_by("app_label", "model")


def start_of(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in the site's time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def date_input():
    # A fixed ISO format: the browser's date picker accepts nothing else.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class LogEntryFilterSet(django_filters.FilterSet):
    actor = django_filters.CharFilter(method="filter_actor", label="Actor")
    action = django_filters.ChoiceFilter(choices=ACTION_CHOICES, empty_label="Any action")
    content_type = django_filters.ModelChoiceFilter(
        queryset=logged_content_types, label="Object type", empty_label="Any type"
    )
    event = django_filters.CharFilter(method="filter_event", label="Event")
    q = django_filters.CharFilter(method="search", label="Object id or name")
    cid = django_filters.CharFilter(field_name="cid", lookup_expr="exact", label="Correlation id")
    # Bounds as instants, not ``timestamp__date``: a date cast would keep the timestamp index unused.
    date_from = django_filters.DateFilter(method="filter_from", label="From", widget=date_input())
    date_to = django_filters.DateFilter(method="filter_to", label="To", widget=date_input())

    class Meta:
        model = LogEntry
        form = LogEntryFilterForm
        fields = ["actor", "action", "event", "content_type", "q", "cid", "date_from", "date_to"]

    def filter_actor(self, queryset, name, value):
        # actor_email is kept on the entry, so changes by a since-deleted user stay findable.
        return queryset.filter(Q(actor__username__icontains=value) | Q(actor_email__icontains=value))

    def filter_from(self, queryset, name, value):
        return queryset.filter(timestamp__gte=start_of(value))

    def filter_to(self, queryset, name, value):
        return queryset.filter(timestamp__lt=start_of(value + dt.timedelta(days=1)))

    def filter_event(self, queryset, name, value):
        # A prefix, so "login" finds login.failed and login.locked_out. record_event names it
        # "event"; the integrations' own entries (run, replay, promote) call it "action".
        value = value.strip()
        return queryset.filter(
            Q(additional_data__event__startswith=value) | Q(additional_data__action__startswith=value)
        )

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(object_pk=value) | Q(object_repr__icontains=value))
