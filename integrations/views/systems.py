"""System pages: the plain generic shape every object page starts from."""

from accounts import generic

from ..filtersets import SystemFilterSet
from ..forms import SystemForm
from ..models import System
from ..tables import SystemTable


class SystemListView(generic.ObjectListView):
    model = System
    queryset = System.objects.select_related("owner")
    table_class = SystemTable
    filterset_class = SystemFilterSet


class SystemDetailView(generic.ObjectDetailView):
    model = System


class SystemCreateView(generic.ObjectCreateView):
    model = System
    form_class = SystemForm


class SystemUpdateView(generic.ObjectUpdateView):
    model = System
    form_class = SystemForm


class SystemDeleteView(generic.ObjectDeleteView):
    model = System
