from .connector import Connector, ConnectorGroupObjectPermission, ConnectorUserObjectPermission
from .flow import Flow, FlowGroupObjectPermission, FlowUserObjectPermission
from .reconciliation import Reconciliation
from .run import COUNTERS, Delivery, InboundEvent, RecordOutcome, Run
from .system import System, SystemGroupObjectPermission, SystemUserObjectPermission
from .target_change import TargetChange

__all__ = [
    "COUNTERS",
    "Connector",
    "ConnectorGroupObjectPermission",
    "ConnectorUserObjectPermission",
    "Delivery",
    "Flow",
    "FlowGroupObjectPermission",
    "FlowUserObjectPermission",
    "InboundEvent",
    "Reconciliation",
    "RecordOutcome",
    "Run",
    "System",
    "SystemGroupObjectPermission",
    "SystemUserObjectPermission",
    "TargetChange",
]
