"""What pages, API and commands do to connectors, flows and their records, on behalf of a person.

Each function here is one place for a rule the three front doors share:
what a person may see or change (on top of ``restrict()``), who gets the
object grants on what they create, and the audit entry every action leaves.
The engine's own work stays in ``integrations.engine.actions``; these wrap it
with the person's identity.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from auditlog.context import disable_auditlog
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from guardian.shortcuts import assign_perm
from rest_framework import serializers

from audit.events import record_event
from integrations import crypto
from integrations.adapters import registry
from integrations.adapters.base import Check
from integrations.choices import FlowEntity, OutcomeStatus
from integrations.engine import actions, reconcile
from integrations.engine.actions import ActionError
from integrations.engine.reconcile import ReconcileError
from integrations.models import Connector, Flow, Reconciliation, RecordOutcome, Run

__all__ = [
    "ActionError",
    "ConfigErrors",
    "ReconcileError",
    "accept_deletions",
    "audit",
    "changeable_outcomes",
    "check_connection",
    "discard_outcomes",
    "error_messages",
    "flow_by_name_or_id",
    "grant_creator",
    "iter_ids",
    "may_reconcile",
    "merged_credentials",
    "promote_flow",
    "reconcile_target",
    "replay_outcomes",
    "resend_deleted",
    "route_errors",
    "run_flow",
    "save_connector",
    "validate_connector_config",
    "visible_flows",
    "visible_outcomes",
    "visible_reconciliations",
    "visible_runs",
]

WAITING = (OutcomeStatus.DEAD, OutcomeStatus.QUARANTINED)
AUDITED_IDS = 1000  # outcome ids kept in one audit entry; the count is always complete


# --- Who may see what -----------------------------------------------------------------------


def visible_flows(user, action: str = "view") -> QuerySet[Flow]:
    return Flow.objects.restrict(user, action)


def visible_runs(user) -> QuerySet[Run]:
    """Runs of the flows ``user`` may view (and only with the role's ``view_run``)."""
    return Run.objects.restrict(user, "view").filter(flow__in=visible_flows(user))


def visible_outcomes(user) -> QuerySet[RecordOutcome]:
    """Record outcomes of the flows ``user`` may view; none without ``view_recordoutcome`` (viewers)."""
    return RecordOutcome.objects.restrict(user, "view").filter(flow__in=visible_flows(user))


def changeable_outcomes(user) -> QuerySet[RecordOutcome]:
    """Outcomes ``user`` may replay or discard: those of flows they may change."""
    return RecordOutcome.objects.restrict(user, "view").filter(flow__in=visible_flows(user, "change"))


def visible_reconciliations(user) -> QuerySet[Reconciliation]:
    """Reconciliations of the connectors ``user`` may view (and only with the role's ``view_reconciliation``)."""
    return Reconciliation.objects.restrict(user, "view").filter(target__in=Connector.objects.restrict(user, "view"))


def grant_creator(obj: Connector | Flow, user) -> None:
    """Whoever creates a connector or flow may view, change and delete it (engineers hold only ``add``)."""
    model_name = obj._meta.model_name
    for action in ("view", "change", "delete"):
        assign_perm(f"{action}_{model_name}", user, obj)


# --- The audit trail ------------------------------------------------------------------------


def audit(instance, user, action: str, *, changes: dict | None = None, log_action=None, **data) -> LogEntry:
    """One audit entry for a person's action on ``instance`` (``action`` names it, e.g. "replay")."""
    return LogEntry.objects.log_create(
        instance,
        force_log=True,
        action=LogEntry.Action.ACCESS if log_action is None else log_action,
        changes=changes or {},
        actor=user if user is not None and user.is_authenticated else None,
        additional_data={"action": action, **data},
    )


# --- Connector settings and credentials -----------------------------------------------------


class ConfigErrors(Exception):
    """Field-level problems with a connector's configuration: ``{"settings": {…}, "credentials": {…}}``."""

    def __init__(self, errors: dict[str, Any]):
        super().__init__(errors)
        self.errors = errors


def merged_credentials(connector: Connector | None, adapter_key: str, new: dict | None) -> tuple[dict, bool]:
    """The credentials to store, and whether they differ from what is stored.

    A blank or missing value keeps the stored one; keys the adapter does not
    know (left from another adapter type) are dropped.
    """
    schema = registry.get(adapter_key).credentials_schema
    known = set(schema().fields) if schema else set()
    stored = crypto.decrypt(connector.credentials) if connector is not None and connector.credentials else {}
    merged = {k: v for k, v in stored.items() if k in known}
    merged.update({k: v for k, v in (new or {}).items() if k in known and v not in ("", None)})
    return merged, merged != stored


def validate_connector_config(adapter_key: str, settings: dict, credentials: dict) -> dict:
    """The adapter's validated settings, or ``ConfigErrors`` keyed by settings/credentials field."""
    try:
        adapter = registry.get(adapter_key)
    except LookupError as exc:
        raise ConfigErrors({"adapter": [str(exc)]}) from None
    errors: dict[str, Any] = {}
    validated: dict = {}
    schema = adapter.settings_schema(data=settings)
    if schema.is_valid():
        validated = dict(schema.validated_data)
    else:
        errors["settings"] = schema.errors
    credential_errors: dict[str, Any] = {}
    if adapter.credentials_schema is not None:
        secrets = adapter.credentials_schema(data=credentials)
        if not secrets.is_valid():
            credential_errors.update(secrets.errors)
    check = getattr(adapter, "check_credentials", None)
    if callable(check) and "settings" not in errors:
        for field, messages in check(validated, credentials).items():
            credential_errors.setdefault(field, messages)
    if credential_errors:
        errors["credentials"] = credential_errors
    if errors:
        raise ConfigErrors(errors)
    return validated


def save_connector(connector: Connector, user, credentials: dict | None = None) -> None:
    """Save ``connector``; with ``credentials`` (the whole new dict) store them encrypted and audit the change.

    The creator is granted the connector. The ``credentials.replaced`` access
    event names the credential fields that are set, never their values.
    """
    created = connector.pk is None
    had = not created and connector.has_credentials
    if credentials is not None:
        connector.set_credentials(credentials)
    connector.save()
    if created:
        grant_creator(connector, user)
    if credentials is not None:
        # An access event, never the credential: which fields are set, and whether some were before.
        record_event(
            "credentials.replaced",
            actor=user,
            target=connector,
            fields=sorted(k for k, v in credentials.items() if v not in ("", None)),
            had_credentials=had,
        )


def check_connection(connector: Connector, user) -> list[Check]:
    """Run the adapter's connection checks and audit that they were run (names and results, no details)."""
    checks = actions.test_connection(connector)
    audit(
        connector,
        user,
        "test_connection",
        ok=all(check.ok for check in checks),
        checks=[{"name": check.name, "ok": check.ok} for check in checks],
    )
    return checks


def may_reconcile(connector: Connector, user) -> bool:
    """Whether ``user`` may start a reconciliation of ``connector``: the role's ``add_reconciliation``
    and ``change`` on the connector (it asks the target for every key it holds)."""
    return (
        user is not None
        and user.has_perm("integrations.add_reconciliation")
        and Connector.objects.restrict(user, "change").filter(pk=connector.pk).exists()
    )


def reconcile_target(target: Connector, entity: str, user, *, via: str = "page") -> Reconciliation:
    """Queue a reconciliation of ``target`` for ``entity`` on behalf of ``user`` and audit it.

    ``PermissionDenied`` when ``user`` may not (``may_reconcile``); ``ReconcileError``
    says why it cannot start (unknown entity, an adapter that cannot list its keys,
    a disabled connector, one already queued or running).
    """
    if not may_reconcile(target, user):
        raise PermissionDenied("Reconciling a connector takes your role's permission and change on the connector.")
    if entity not in FlowEntity.values:
        raise ReconcileError(f"{entity!r} is not an entity Junction delivers.")
    stored = reconcile.start(target, entity, user=_person(user))
    audit(target, user, "reconcile", entity=entity, reconciliation=stored.pk, via=via)
    return stored


def accept_deletions(stored: Reconciliation, user, *, via: str = "page") -> int:
    """Accept the deletions ``stored`` found on behalf of ``user``: Junction forgets it delivered
    those records (``reconcile.accept_deletions``); audited on the target. Returns how many it forgot.

    ``PermissionDenied`` when ``user`` may not reconcile the target (``may_reconcile``);
    ``ReconcileError`` says why it cannot be accepted (nothing found, already accepted, a later one).
    """
    _may_settle(stored, user, "Accepting deletions")
    forgotten = reconcile.accept_deletions(stored, user=_person(user))
    _audit_settled(stored, user, "accept_deletions", via, records=forgotten)
    return forgotten


def resend_deleted(stored: Reconciliation, user, *, via: str = "page") -> reconcile.Resent:
    """Send the records ``stored`` found gone to its target again on behalf of ``user``
    (``reconcile.resend``); audited on the target. Permissions and refusals as ``accept_deletions``."""
    _may_settle(stored, user, "Sending deleted records again")
    result = reconcile.resend(stored, user=_person(user))
    runs = [run.pk for run in result.runs]
    _audit_settled(stored, user, "resend_deleted", via, records=result.sent, runs=runs, left=result.left)
    return result


def _may_settle(stored: Reconciliation, user, doing: str) -> None:
    """Settling what a reconciliation found takes what starting one takes."""
    if not may_reconcile(stored.target, user):
        raise PermissionDenied(f"{doing} takes your role's permission to reconcile and change on the connector.")


def _audit_settled(stored: Reconciliation, user, action: str, via: str, **details) -> None:
    audit(stored.target, user, action, reconciliation=stored.pk, entity=stored.entity, **details, via=via)


# --- Flows ----------------------------------------------------------------------------------


def run_flow(flow: Flow, user, *, via: str = "page") -> Run:
    """Start a manual run of ``flow``; ``ActionError`` says why it cannot run."""
    run = actions.start_run(flow, trigger="manual", user=user if user is not None and user.is_authenticated else None)
    audit(flow, user, "run", run=run.pk, stage=run.stage, via=via)
    return run


def promote_flow(flow: Flow, stage: str, user) -> None:
    """Move ``flow`` to ``stage`` (one audit entry with the before and after, not two)."""
    before = flow.stage
    with disable_auditlog():
        actions.promote(flow, stage)
    audit(flow, user, "promote", log_action=LogEntry.Action.UPDATE, changes={"stage": [before, flow.stage]})


def route_errors(source: Connector | None, targets) -> dict[str, str]:
    """What is wrong with a flow's source and targets, by field (trigger rules are Flow.clean's)."""
    errors = {}
    if source is not None:
        cls = _adapter_class(source)
        if cls is not None and not (cls.can_read or getattr(cls, "inbound", False)):
            errors["source"] = f"A {cls.label} connector cannot be read from."
        if source in targets:
            errors["targets"] = "The source cannot also be a target."
    cannot_write = [str(t) for t in targets if (cls := _adapter_class(t)) is not None and not cls.can_write]
    if cannot_write:
        errors["targets"] = f"These connectors cannot be written to: {', '.join(cannot_write)}."
    return errors


def _adapter_class(connector: Connector):
    try:
        return connector.adapter_class
    except LookupError:
        return None


# --- Dead letters ---------------------------------------------------------------------------


def _by_flow(outcomes: QuerySet[RecordOutcome]) -> dict[int, list[int]]:
    ids: dict[int, list[int]] = {}
    for pk, flow_id in outcomes.filter(status__in=WAITING, dry_run=False).order_by("pk").values_list("pk", "flow_id"):
        ids.setdefault(flow_id, []).append(pk)
    return ids


def replay_outcomes(outcomes: QuerySet[RecordOutcome], user, *, via: str = "page") -> list[Run]:
    """Replay the dead-lettered or quarantined ``outcomes``: one new run per flow they belong to.

    Every flow is checked first, so nothing is replayed when one of them cannot take it.
    """
    groups = _by_flow(outcomes)
    flows = Flow.objects.in_bulk(groups)
    blocked = sorted(str(flow) for flow in flows.values() if not flow.writes_to_targets)
    if blocked:
        raise ActionError(
            f"Replays deliver, so the flow must be in pilot or live: {', '.join(blocked)} is not. "
            "Move it there or discard the records."
        )
    runs = []
    for flow_id, ids in groups.items():
        run = actions.replay(RecordOutcome.objects.filter(pk__in=ids), user=_person(user))
        if run is not None:
            run.refresh_from_db()  # the engine counted the records with an UPDATE
            audit(flows[flow_id], user, "replay", run=run.pk, records=len(ids), outcomes=ids[:AUDITED_IDS], via=via)
            runs.append(run)
    return runs


def discard_outcomes(outcomes: QuerySet[RecordOutcome], reason: str, user, *, via: str = "page") -> int:
    """Give up on the dead-lettered or quarantined ``outcomes``, saying why; returns how many."""
    if not reason.strip():
        raise ActionError("Say why these records are discarded.")
    total = 0
    for flow_id, ids in _by_flow(outcomes).items():
        count = actions.discard(RecordOutcome.objects.filter(pk__in=ids), reason)
        audit(
            Flow.objects.get(pk=flow_id),
            user,
            "discard",
            reason=reason.strip(),
            records=count,
            outcomes=ids[:AUDITED_IDS],
            via=via,
        )
        total += count
    return total


def _person(user):
    return user if user is not None and user.is_authenticated else None


def error_messages(detail: Any, prefix: str = "") -> list[str]:
    """A DRF error structure (nested dicts and lists) as flat ``"where: message"`` lines."""
    if isinstance(detail, serializers.ValidationError):
        detail = detail.detail
    if isinstance(detail, dict):
        lines = []
        for key, value in detail.items():
            where = prefix if key in ("non_field_errors",) else (f"{prefix} → {key}" if prefix else str(key))
            lines += error_messages(value, where)
        return lines
    if isinstance(detail, list | tuple):
        if all(isinstance(item, str) for item in detail):
            return [f"{prefix}: {item}" if prefix else str(item) for item in detail]
        lines = []
        for position, value in enumerate(detail, 1):
            if value:
                lines += error_messages(value, f"{prefix} {position}".strip() if prefix else f"{position}")
        return lines
    return [f"{prefix}: {detail}" if prefix else str(detail)]


def iter_ids(values: Iterable[str]) -> list[int]:
    """Integers from request values, ignoring anything else."""
    return sorted({int(v) for v in values if str(v).isdigit()})


def flow_by_name_or_id(reference: str) -> Flow:
    """The flow named ``reference``, or with that id; ``Flow.DoesNotExist`` otherwise (for commands)."""
    flow = Flow.objects.filter(name=reference).first()
    if flow is None and str(reference).isdigit():
        flow = Flow.objects.filter(pk=int(reference)).first()
    if flow is None:
        raise Flow.DoesNotExist(f"No flow is named or numbered {reference!r}.")
    return flow
