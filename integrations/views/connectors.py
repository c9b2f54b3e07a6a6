"""Connector pages: list, detail with "Test connection", add/edit with the adapter's own fields, delete.

Credentials are never shown: the detail page says whether they are set and
when they last changed; the form's credential inputs are always empty, and
editing asks for a recent sign-in (accounts/reauth.py).
"""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.views import View

from accounts import generic
from accounts.reauth import RecentAuthRequiredMixin

from .. import services
from ..filtersets import ConnectorFilterSet
from ..forms import ConnectorForm
from ..models import Connector
from ..tables import ConnectorTable
from .common import ProtectedDeleteView
from .reconciliations import reconciliation_card


class ConnectorListView(generic.ObjectListView):
    model = Connector
    queryset = Connector.objects.select_related("system")
    table_class = ConnectorTable
    filterset_class = ConnectorFilterSet


def settings_rows(connector: Connector) -> list[tuple[str, object]]:
    """(label, value) per setting: the stored ones, in the adapter's schema order when it is known."""
    stored = connector.settings or {}
    try:
        order = list(connector.adapter_class.settings_schema().fields)
    except LookupError:
        order = []
    names = [n for n in order if n in stored] + sorted(n for n in stored if n not in order)
    return [(name, stored[name]) for name in names]


class ConnectorDetailView(generic.ObjectDetailView):
    model = Connector
    queryset = Connector.objects.select_related("system")
    template_name = "integrations/connector_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        connector, user = self.object, self.request.user
        flows = services.visible_flows(user)
        context.update(
            settings_rows=settings_rows(connector),
            source_of=flows.filter(source=connector),
            target_of=flows.filter(targets=connector),
            reconciliation=reconciliation_card(connector, user),
        )
        return context


class ConnectorFormMixin:
    model = Connector
    form_class = ConnectorForm
    template_name = "integrations/connector_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}


class ConnectorCreateView(ConnectorFormMixin, generic.ObjectCreateView):
    """Saving grants the creator view, change and delete on the new connector (services.save_connector)."""


class ConnectorUpdateView(RecentAuthRequiredMixin, ConnectorFormMixin, generic.ObjectUpdateView):
    """Asks for the password (or a TOTP code) again when the last sign-in is a few minutes old:
    this page replaces the credentials, and its settings decide where they are sent."""


class ConnectorDeleteView(ProtectedDeleteView):
    model = Connector
    protected_message = "“{object}” is still used by flows or their records: {users}. Remove it from them first."


class ConnectorAdapterFieldsView(LoginRequiredMixin, View):
    """htmx: the settings and credentials fields of the adapter just chosen in the form."""

    def get(self, request):
        connector = None
        if (pk := request.GET.get("connector", "")).isdigit():
            connector = get_object_or_404(Connector.objects.restrict(request.user, "change"), pk=pk)
        elif not request.user.has_perm("integrations.add_connector"):
            raise PermissionDenied
        form = ConnectorForm(user=request.user, adapter=request.GET.get("adapter"), instance=connector)
        return render(request, "integrations/includes/connector_adapter_fields.html", {"form": form})


class ConnectorTestView(LoginRequiredMixin, View):
    """POST (htmx): run the adapter's connection checks and show each one. Needs ``change`` on the connector."""

    http_method_names = ["post"]

    def post(self, request, pk):
        connector = get_object_or_404(Connector.objects.restrict(request.user, "change"), pk=pk)
        checks = services.check_connection(connector, request.user)
        context = {"checks": checks, "ok": all(c.ok for c in checks), "connector": connector}
        return render(request, "integrations/includes/connection_checks.html", context)


__all__ = [
    "ConnectorAdapterFieldsView",
    "ConnectorCreateView",
    "ConnectorDeleteView",
    "ConnectorDetailView",
    "ConnectorListView",
    "ConnectorTestView",
    "ConnectorUpdateView",
]
