"""The integration pages, one module per area (habit 10); urls.py imports them from here."""

from .connectors import (
    ConnectorAdapterFieldsView,
    ConnectorCreateView,
    ConnectorDeleteView,
    ConnectorDetailView,
    ConnectorListView,
    ConnectorTestView,
    ConnectorUpdateView,
)
from .deadletters import DeadLetterDiscardView, DeadLetterListView, DeadLetterReplayView
from .flows import (
    FlowCreateView,
    FlowDeleteView,
    FlowDetailView,
    FlowListView,
    FlowMappingView,
    FlowPreviewView,
    FlowPromoteView,
    FlowRunView,
    FlowUpdateView,
)
from .runs import OutcomeDetailView, RunDetailView, RunListView
from .systems import SystemCreateView, SystemDeleteView, SystemDetailView, SystemListView, SystemUpdateView

__all__ = [
    "ConnectorAdapterFieldsView",
    "ConnectorCreateView",
    "ConnectorDeleteView",
    "ConnectorDetailView",
    "ConnectorListView",
    "ConnectorTestView",
    "ConnectorUpdateView",
    "DeadLetterDiscardView",
    "DeadLetterListView",
    "DeadLetterReplayView",
    "FlowCreateView",
    "FlowDeleteView",
    "FlowDetailView",
    "FlowListView",
    "FlowMappingView",
    "FlowPreviewView",
    "FlowPromoteView",
    "FlowRunView",
    "FlowUpdateView",
    "OutcomeDetailView",
    "RunDetailView",
    "RunListView",
    "SystemCreateView",
    "SystemDeleteView",
    "SystemDetailView",
    "SystemListView",
    "SystemUpdateView",
]
