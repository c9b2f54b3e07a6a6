"""System pages: the plain generic shape every object page starts from."""

from accounts import generic

from ..filtersets import SystemFilterSet
from ..forms import SystemForm
from ..models import System
from ..tables import SystemTable
from .common import ProtectedDeleteView


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


class SystemDeleteView(ProtectedDeleteView):
    model = System
    protected_message = "“{object}” still has connectors or imports: {users}. Remove them first."
