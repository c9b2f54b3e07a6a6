import django_filters
from django.db.models import Q

from .choices import Environment, SystemKind
from .models import System


class SystemFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    kind = django_filters.ChoiceFilter(choices=SystemKind.choices, empty_label="Any kind")
    environment = django_filters.ChoiceFilter(choices=Environment.choices, empty_label="Any environment")

    class Meta:
        model = System
        fields = ["q", "kind", "environment"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(notes__icontains=value))
