"""What people (pages, API, commands) ask of the engine. Views call these, never the tasks directly."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from integrations.adapters.base import Check
from integrations.choices import OutcomeStatus, RunStatus, Stage
from integrations.models import Connector, Flow, RecordOutcome, Run

from . import mapping, pipeline

# Allowed rollout moves: a draft is tested (dry run) first; from test it may go to pilot or live.
TRANSITIONS = {
    Stage.DRAFT: {Stage.TEST},
    Stage.TEST: {Stage.DRAFT, Stage.PILOT, Stage.LIVE},
    Stage.PILOT: {Stage.TEST, Stage.LIVE, Stage.PAUSED},
    Stage.LIVE: {Stage.PAUSED, Stage.PILOT},
    Stage.PAUSED: {Stage.LIVE, Stage.PILOT, Stage.TEST},
}


class ActionError(Exception):
    """Why an action cannot be done; the message is meant for the person who asked."""


def start_run(flow: Flow, *, trigger: str = "manual", user=None) -> Run:
    """Queue a run of ``flow``; the worker picks it up after the transaction commits."""
    from integrations import tasks

    if not flow.runnable:
        raise ActionError(f"{flow} is in the {flow.get_stage_display()} stage: move it to test, pilot or live first.")
    if not flow.targets.exists():
        raise ActionError(f"{flow} has no target connector.")
    # The stored watermark, not the caller's copy of the flow: a copy loaded before the last run
    # finished would make this run read everything again.
    watermark = Flow.objects.values_list("watermark", flat=True).get(pk=flow.pk)
    run = Run.objects.create(flow=flow, stage=flow.stage, trigger=trigger, requested_by=user, watermark_start=watermark)
    transaction.on_commit(lambda: tasks.extract_run.delay(run.pk))
    return run


def promote(flow: Flow, stage: str) -> None:
    if stage not in TRANSITIONS.get(flow.stage, set()):
        allowed = ", ".join(Stage(s).label for s in sorted(TRANSITIONS.get(flow.stage, ())))
        raise ActionError(f"A flow in {flow.get_stage_display()} can move to: {allowed}.")
    if stage in (Stage.PILOT,) and not flow.pilot_filter:
        raise ActionError(
            "Set a pilot filter first (for example one location), so the pilot reaches only those records."
        )
    flow.stage = stage
    flow.save(update_fields=["stage", "updated"])


def replay(outcomes: QuerySet[RecordOutcome], user=None) -> Run | None:
    """Send dead-lettered or quarantined records again, mapped with the flow's *current* mapping.

    The records go into a new run (trigger "replay") so their fate is counted
    where people look; records quarantined before reaching a target are staged
    again from their original payload, through cleansing and matching.
    """
    from integrations import tasks

    rows = list(
        outcomes.filter(status__in=[OutcomeStatus.DEAD, OutcomeStatus.QUARANTINED], dry_run=False).select_related(
            "flow"
        )
    )
    if not rows:
        return None
    flows = {row.flow_id for row in rows}
    if len(flows) != 1:
        raise ActionError("Replay the records of one flow at a time.")
    flow = rows[0].flow
    if not flow.writes_to_targets:
        raise ActionError(
            f"{flow} is in the {flow.get_stage_display()} stage: replays deliver, so it must be in pilot or live."
        )
    with transaction.atomic():
        run = Run.objects.create(flow=flow, stage=flow.stage, trigger="replay", requested_by=user)
        stager = pipeline.Stager(run)
        untargeted = [row for row in rows if row.target_id is None]
        targeted = [row for row in rows if row.target_id is not None]
        for row in targeted:
            try:
                row.mapped = mapping.apply(flow.mapping, _values_for(stager, row), resolve=stager._resolver(row.target))
            except mapping.UnresolvedReference as exc:  # waits for it afresh, in the new run
                row.run, row.status, row.attempts, row.mapped = run, OutcomeStatus.RETRYING, 0, None
                row.error_class, row.error_message = "UnresolvedReference", pipeline.waiting_message(exc)
                row.next_attempt_at, row.lease_until = pipeline.reference_check_at(0), None
                continue
            except mapping.MappingError as exc:
                row.error_class, row.error_message = "MappingError", str(exc)
                row.status = OutcomeStatus.QUARANTINED
                continue
            row.run, row.status, row.attempts = run, OutcomeStatus.PENDING, 0
            row.next_attempt_at = row.lease_until = None
            row.error_class = row.error_message = ""
        now = timezone.now()
        for row in targeted:
            row.updated_at = now  # staged now: the sweeper's grace for its message starts here
        RecordOutcome.objects.bulk_update(
            targeted,
            [
                "run",
                "mapped",
                "status",
                "attempts",
                "next_attempt_at",
                "lease_until",
                "error_class",
                "error_message",
                "updated_at",
            ],
        )
        if untargeted:
            RecordOutcome.objects.filter(pk__in=[r.pk for r in untargeted]).update(
                status=OutcomeStatus.DISCARDED, discard_reason=f"Replayed in run {run.pk}."
            )
            stager.stage([_as_source(row) for row in untargeted], None)
        pending = sum(r.status != OutcomeStatus.QUARANTINED for r in targeted)
        pipeline.bump(run.pk, read=len(targeted), quarantined=len(targeted) - pending)
        Run.objects.filter(pk=run.pk).update(extracted=True, status=RunStatus.DELIVERING, started_at=timezone.now())
        transaction.on_commit(lambda: tasks.deliver_run.delay(run.pk))
    run.refresh_from_db()  # counters and status were written with update()
    return run


def _values_for(stager: pipeline.Stager, row: RecordOutcome) -> dict:
    values, _subject = stager._resolve_master_data(_as_source(row))
    if isinstance(values, str):
        raise mapping.MappingError(values)
    return values


def _as_source(row: RecordOutcome):
    from integrations.adapters.base import SourceRecord

    return SourceRecord(row.external_id, row.payload)


def discard(outcomes: QuerySet[RecordOutcome], reason: str) -> int:
    """Give up on dead-lettered or quarantined records, saying why. Nothing is deleted."""
    if not reason.strip():
        raise ActionError("Say why these records are discarded.")
    return outcomes.filter(status__in=[OutcomeStatus.DEAD, OutcomeStatus.QUARANTINED], dry_run=False).update(
        status=OutcomeStatus.DISCARDED, discard_reason=reason.strip(), updated_at=timezone.now()
    )


def test_connection(connector: Connector) -> list[Check]:
    """What works and what fails when talking to ``connector``'s system; never raises."""
    try:
        with connector.open_adapter() as adapter:
            return adapter.test_connection()
    except Exception as exc:  # the page shows the failure instead of an error page
        return [Check("Open the connector", False, f"{type(exc).__name__}: {exc}")]


def preview(flow: Flow, sample: dict) -> dict:
    """A sample record through cleansing and the flow's mapping, for the mapping editor. Writes nothing."""
    result: dict = {"input": sample}
    values = dict(sample)
    if flow.carries_master_data:
        from masterdata import cleansing

        cleaned = cleansing.cleanse(flow.entity, sample, locale=flow.source.system.locale or None)
        # the worker adds these once the record is matched; placeholders keep mappings that use them previewable
        values = {**cleaned.values, "golden_id": "<golden record id>", "external_id": sample.get("id", "<source id>")}
        result["cleansed"] = cleaned.values
        result["changes"] = [
            {"field": c.field, "before": c.before, "after": c.after, "rule": c.rule} for c in cleaned.changes
        ]
        result["errors"] = cleaned.errors
    try:
        result["mapped"] = mapping.apply(
            flow.mapping, values, resolve=lambda entity, value: f"<{entity} {value} in target>"
        )
    except mapping.MappingError as exc:
        result["mapping_error"] = str(exc)
    result["passes_filters"] = mapping.matches(flow.filters, values)
    return result
