"""Reconciliation: which records Junction delivered to a target are gone from it (deleted there).

Compares the target's own list of keys (``Adapter.reconcile_ids``, archived records
included) with the records Junction's deliveries say it holds. Read-only: a missing
record is reported, never re-created behind a person's back (it was deleted there
on purpose, or by mistake: someone decides).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from integrations.adapters.errors import AdapterError
from integrations.models import Connector, Delivery


@dataclass
class Reconciliation:
    target: str
    entity: str
    delivered: int = 0  # records Junction's deliveries say the target holds
    present: int = 0  # keys the target lists
    missing: list[tuple[str, str]] = field(default_factory=list)  # (key, subject) delivered but gone


class ReconcileError(Exception):
    """Why the target could not be reconciled; the message is meant for a person."""


def reconcile(target: Connector, entity: str) -> Reconciliation:
    result = Reconciliation(str(target), entity)
    deliveries = list(Delivery.objects.filter(target=target, entity=entity).values_list("subject", "payload"))
    try:
        with target.open_adapter() as adapter:
            keys = adapter.reconcile_ids(entity)
            sent = [(adapter.key_of(entity, payload), subject) for subject, payload in deliveries]
    except NotImplementedError:
        raise ReconcileError(f"The {target.adapter_label} adapter cannot list what {target} holds.") from None
    except AdapterError as exc:
        raise ReconcileError(f"{target}: {exc}") from None
    result.delivered, result.present = len(sent), len(keys)
    result.missing = sorted((key, subject) for key, subject in sent if key not in keys)
    return result
