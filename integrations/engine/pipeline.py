"""The pipeline: extract → cleanse and match → map → stage outcomes → load → record.

Everything a worker will do is written to the database (``RecordOutcome``
rows, the outbox) before a message is queued, and every network call happens
outside a transaction. So a lost message, a restarted Redis or a killed worker
loses nothing: the sweeper (``engine.sweeper``) finds the due rows again.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from config.lookups import any_of
from config.ordering import one_value
from config.statistics import refresh_grown
from integrations.adapters.base import OutRecord, SourceRecord, WriteResult
from integrations.adapters.errors import AdapterError, DestinationRefused, PermanentError, TransientError
from integrations.choices import Action, CircuitState, OutcomeStatus, RunStatus, Stage
from integrations.models import Connector, Delivery, Flow, InboundEvent, RecordOutcome, Run, System
from masterdata.services import ingest_batch
from masterdata.services.ingest import payload_hash  # one digest of a payload, for outcomes and source records

from . import mapping, outbox
from .retry import next_attempt

log = logging.getLogger(__name__)


def circuit_cooldown() -> timedelta:
    """How long an open circuit waits before a probe."""
    return timedelta(seconds=settings.JUNCTION_CIRCUIT_COOLDOWN_SECONDS)


def lease() -> timedelta:
    """A claim older than this belongs to a worker that died; the sweeper hands the work to another."""
    return timedelta(seconds=settings.JUNCTION_LEASE_SECONDS)


CIRCUIT_THRESHOLD = 3  # consecutive failed batches before a target is paused


def idempotency_key(source: Connector, entity: str, external_id: str, version: str | None, digest: str) -> str:
    """Same record, same version → same key, however often it is delivered."""
    parts = [str(source.pk), entity, external_id, version or f"#{digest}"]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def bump(run_id: int, **counts: int) -> None:
    """Add to a run's counters in one UPDATE (safe with many workers)."""
    counts = {name: F(name) + n for name, n in counts.items() if n}
    if counts:
        Run.objects.filter(pk=run_id).update(**counts)


# --- Staging: source records → outcome rows -------------------------------------------------


class _DryRun(Exception):  # control flow: rolls back a dry run's master-data writes
    def __init__(self, result):
        self.result = result


class Stager:
    """Turns source records into outcome rows for one run (per target, or quarantined)."""

    def __init__(self, run: Run):
        self.run = run
        self.flow: Flow = run.flow
        self.targets = list(self.flow.targets.all())

    def stage(self, records: list[SourceRecord], watermark: str | None) -> None:
        """Write one page's outcome rows, the run's counts and the watermark in a single transaction.

        The flow's watermark moves only here, with the rows up to it, and only in
        the live stage: a pilot or a dry run must not make a later live run skip records.
        """
        counts = dict.fromkeys(("read", "filtered", "quarantined", "unchanged", "planned"), 0)
        rows: list[dict] = []
        with transaction.atomic():
            resolved = self._resolve_all(records)
            for record, (values, subject) in zip(records, resolved, strict=True):
                counts["read"] += 1
                rows.extend(self._rows_for(record, values, subject, counts))
            now = timezone.now()
            counts["unchanged"] += outbox.stage(rows, now)
            # One UPDATE of the run: its counts, its lease and how far it got.
            changes = {name: F(name) + n for name, n in counts.items() if n}
            changes["lease_until"] = now + lease()
            if watermark is not None:
                changes["watermark"] = watermark
            Run.objects.filter(pk=self.run.pk).update(**changes)
            if watermark is not None and self.run.stage == Stage.LIVE and self.run.trigger != "replay":
                Flow.objects.filter(pk=self.flow.pk).update(watermark=watermark)

    def _rows_for(self, record: SourceRecord, values: dict | str, subject: str, counts: dict) -> list[dict]:
        digest = payload_hash(record.payload)
        key = idempotency_key(self.flow.source, self.flow.entity, record.external_id, record.version, digest)
        base = {
            "run_id": self.run.pk,
            "flow_id": self.flow.pk,
            "external_id": record.external_id[:255],
            "idempotency_key": key,
            "payload": record.payload,
            "payload_hash": digest,
            "dry_run": self.run.dry_run,
        }
        problem = _problem(record)
        if problem is None and isinstance(values, str):  # master data quarantined it: the reason
            problem = values
        if problem:
            counts["quarantined"] += 1
            quarantined = {"status": OutcomeStatus.QUARANTINED, "error_class": "InvalidRecord"}
            return [{**base, **quarantined, "target_id": None, "error_message": problem}]
        if not mapping.matches(self.flow.filters, values) or (
            self.run.stage == Stage.PILOT and not mapping.matches(self.flow.pilot_filter, values)
        ):
            counts["filtered"] += 1
            return []
        return [self._row_for_target(base, values, subject, target, counts) for target in self.targets]

    def _resolve_all(self, records: list[SourceRecord]) -> list[tuple[dict | str, str]]:
        """(values to map, subject) per record; values is the quarantine reason when cleansing rejects it.

        Master data goes through ingest for the whole page at once (one batch of
        queries instead of a dozen per record); a dry run's master-data writes are
        rolled back.
        """
        if not self.flow.carries_master_data:
            system_id = self.flow.source.system_id
            return [(dict(r.payload), f"{system_id}:{r.external_id}") for r in records]
        wanted = [r for r in records if _problem(r) is None]
        results: dict[int, tuple[dict | str, str]] = {}
        try:
            with transaction.atomic():
                outcomes = ingest_batch.ingest_many(  # the master-data step of every master-data flow
                    self.flow.source.system,
                    self.flow.entity,
                    [(r.external_id, r.payload) for r in wanted],
                    locale=self.flow.source.system.locale,
                    actor=self.run.requested_by,  # the audit entries name who started the run
                )
                for record, outcome in zip(wanted, outcomes, strict=True):
                    results[id(record)] = _master_values(record, outcome)
                if self.run.dry_run:
                    raise _DryRun(results)  # a plan only: master data stays as it was
        except _DryRun:
            pass
        return [results.get(id(r), ({}, "")) for r in records]

    def _resolve_master_data(self, record: SourceRecord) -> tuple[dict | str, str]:
        """(values to map, subject) for one record (a replay); see _resolve_all."""
        return self._resolve_all([record])[0]

    def _row_for_target(self, base: dict, values: dict, subject: str, target: Connector, counts: dict) -> dict:
        row = {**base, "target_id": target.pk, "subject": subject, "status": OutcomeStatus.PENDING}
        try:
            row["mapped"] = mapping.apply(self.flow.mapping, values, resolve=self._resolver(target))
        except mapping.UnresolvedReference as exc:
            if not self.run.dry_run:  # not the record's fault: it waits for the reference, mapped at load time
                row.update(
                    status=OutcomeStatus.RETRYING,
                    error_class="UnresolvedReference",
                    error_message=waiting_message(exc),
                    next_attempt_at=reference_check_at(0).isoformat(),
                )
                return row
            counts["quarantined"] += 1
            row.update(status=OutcomeStatus.QUARANTINED, error_class="UnresolvedReference", error_message=str(exc))
            row["error_message"] += f"; a live run waits up to {wait_minutes()} minutes for it"
            return row
        except mapping.MappingError as exc:
            counts["quarantined"] += 1
            row.update(status=OutcomeStatus.QUARANTINED, error_class="MappingError", error_message=str(exc))
            return row
        if self.run.dry_run:
            plan(row, self.flow.entity)
            counts["planned"] += row["action"] != Action.UNCHANGED
            counts["unchanged"] += row["action"] == Action.UNCHANGED
        return row

    def _resolver(self, target: Connector) -> Callable[..., str]:
        return resolver(self.flow.source.system, target)


def resolver(source_system, target: Connector) -> Callable[..., str]:
    """The mapping's ``resolve``: a reference to a record, as the target's own id for it."""

    def resolve(entity: str, external_id: str, system_name: str | None = None) -> str:
        # A reference rule may name the system whose ids the field holds (the CRM's customer
        # numbers on a till's sale); by default it is the flow's own source system.
        system = source_system
        if system_name:
            system = System.objects.filter(name=system_name).first()
            if system is None:
                raise mapping.MappingError(f"No system is named {system_name!r}.")
        return remote_id_for(system, target, entity, external_id)

    return resolve


def _problem(record: SourceRecord) -> str | None:
    """The reason a source already gave up on this record (an unreadable row, say), or None."""
    return record.payload.get("__error__") if isinstance(record.payload, dict) else None


def _master_values(record: SourceRecord, outcome) -> tuple[dict | str, str]:
    if outcome.source.status == "quarantined":
        return outcome.source.quarantine_reason, ""
    golden = outcome.golden
    return golden_values(golden, record.external_id), f"golden:{golden.pk}"


def golden_values(golden, external_id: str) -> dict:
    """What a master-data flow maps: the golden record's values, its id and the source's id."""
    return {**golden.values, "golden_id": golden.pk, "external_id": external_id}


def remote_id_for(system, target: Connector, entity: str, external_id: str) -> str:
    """The target's id for a record the source knows as ``external_id`` (an order's customer, say)."""
    from masterdata.models import SourceRecord as MasterSource

    subject = f"{system.pk}:{external_id}"
    source = MasterSource.objects.filter(system=system, entity=entity, external_id=external_id).first()
    if source and source.golden_id:
        golden = source.golden
        while golden.merged_into_id:  # merged away: the survivor speaks for it
            golden = golden.merged_into
        subject = f"golden:{golden.pk}"
    delivery = Delivery.objects.filter(target=target, entity=entity, subject=subject).first()
    if delivery is None:
        raise mapping.UnresolvedReference(f"{entity.replace('_', ' ')} {external_id!r} has not reached {target} yet")
    return delivery.remote_id


# --- Waiting for references -------------------------------------------------------------------
# An order can arrive before its customer has reached the target (the customers' flow runs
# later, or its record is still retrying). Such a row is staged unmapped, status retrying, and
# mapped again when its next check comes round, until the run is JUNCTION_REFERENCE_WAIT_MINUTES
# old; then it goes to the dead-letter queue, from where a replay waits afresh.

REFERENCE_FIRST_CHECK = 15.0  # seconds; doubles with each check
REFERENCE_MAX_PAUSE = timedelta(minutes=5)


def wait_minutes() -> int:
    return settings.JUNCTION_REFERENCE_WAIT_MINUTES


def reference_check_at(checks: int):
    """When to look for a missing reference again: soon at first, then every few minutes."""
    return min(next_attempt(checks + 1, REFERENCE_FIRST_CHECK), timezone.now() + REFERENCE_MAX_PAUSE)


def waiting_message(exc: mapping.UnresolvedReference) -> str:
    return f"Waiting: {exc}. Checked again automatically for up to {wait_minutes()} minutes."


def map_waiting(run: Run, target: Connector, rows: list[outbox.Claimed]) -> list[outbox.Claimed]:
    """Map the claimed rows that were waiting for a reference; the ones that still wait are stored
    with their next check (or dead-lettered when the wait is over). Returns the rows ready to write."""
    waiting = [r for r in rows if r.mapped is None]
    if not waiting:
        return rows
    from masterdata.models import GoldenRecord

    flow, now = run.flow, timezone.now()
    sources = {
        pk: (external_id, payload)
        for pk, external_id, payload in RecordOutcome.objects.filter(pk__in=[r.pk for r in waiting]).values_list(
            "pk", "external_id", "payload"
        )
    }
    resolve = Stager(run)._resolver(target)
    over = now >= run.queued_at + timedelta(minutes=wait_minutes())
    results: list[outbox.Result] = []
    counts = {"quarantined": 0, "dead_lettered": 0}
    for row in waiting:
        external_id, payload = sources[row.pk]
        try:
            if flow.carries_master_data:
                values = golden_values(GoldenRecord.objects.get(pk=row.subject.removeprefix("golden:")), external_id)
            else:
                values = dict(payload)
            row.mapped = mapping.apply(flow.mapping, values, resolve=resolve)
        except mapping.UnresolvedReference as exc:
            result = outbox.Result(row.pk, OutcomeStatus.RETRYING, error_class="UnresolvedReference")
            if over:
                result.status = OutcomeStatus.DEAD
                result.error_message = f"{exc} after waiting {wait_minutes()} minutes; replay this record once it has"
                counts["dead_lettered"] += 1
            else:
                result.error_message = waiting_message(exc)
                result.next_attempt_at = reference_check_at(row.attempts)
            results.append(result)
        except mapping.MappingError as exc:
            results.append(
                outbox.Result(row.pk, OutcomeStatus.QUARANTINED, error_class="MappingError", error_message=str(exc))
            )
            counts["quarantined"] += 1
        else:  # kept on the row: a delivery's payload is copied from it
            RecordOutcome.objects.filter(pk=row.pk).update(mapped=row.mapped, error_class="", error_message="")
    if results:
        with transaction.atomic():
            outbox.store(results, [], target.pk, flow.entity, now)
            bump(run.pk, **counts)
    return [r for r in rows if r.mapped is not None]


def plan(row: dict, entity: str) -> None:
    """Dry run: what loading ``row`` would change, against what was last delivered."""
    row["status"] = OutcomeStatus.PLANNED
    last = Delivery.objects.filter(target_id=row["target_id"], entity=entity, subject=row["subject"]).first()
    mapped = row["mapped"]
    if last is None:
        row["action"], row["diff"] = Action.CREATED, {k: [None, v] for k, v in mapped.items()}
        return
    row["remote_id"] = last.remote_id
    diff = {
        k: [last.payload.get(k), mapped.get(k)]
        for k in sorted(set(last.payload) | set(mapped))
        if last.payload.get(k) != mapped.get(k)
    }
    row["action"], row["diff"] = (Action.UPDATED, diff) if diff else (Action.UNCHANGED, {})


# --- Loading: outcome rows → target ---------------------------------------------------------


def claim(run_id: int, target_id: int, limit: int) -> list[outbox.Claimed]:
    """Lease up to ``limit`` due rows of one run and target (skipping rows another worker holds)."""
    now = timezone.now()
    return outbox.claim(run_id, target_id, limit, now, now + lease())


def load(run_id: int, target_id: int) -> int:
    """Deliver every due row of one run to one target, batch by batch. Returns rows delivered."""
    run = Run.objects.select_related("flow").get(pk=run_id)
    target = Connector.objects.get(pk=target_id)
    flow, done = run.flow, 0
    if target.circuit == CircuitState.OPEN or not target.enabled:
        return 0  # the sweeper resumes delivery once a probe succeeds, or the target is enabled
    if not flow.writes_to_targets:
        return 0  # paused, or moved back to test or draft: staged rows wait, leased by nobody
    Run.objects.filter(pk=run_id, status=RunStatus.EXTRACTING, extracted=True).update(status=RunStatus.DELIVERING)
    # Several load tasks are queued per run (one per staged page); most find another
    # worker already on the rows. They stop here, before opening a connection to the target.
    rows = claim(run_id, target_id, flow.batch_size)
    if rows:
        with target.open_adapter() as adapter:
            while rows:
                delivered, healthy = deliver_batch(run, target, adapter, rows)
                done += delivered
                if not healthy:
                    break  # the failed rows wait for their next attempt time (or the probe)
                rows = claim(run_id, target_id, flow.batch_size)
    finish_if_done(run_id)
    return done


def deliver_batch(run: Run, target: Connector, adapter, rows: list[outbox.Claimed]) -> tuple[int, bool]:
    """Write one claimed batch to the target (outside any transaction) and record the results.

    Returns the rows delivered and whether to go on sending (False: the whole batch failed).
    """
    flow = run.flow
    rows = map_waiting(run, target, rows)
    if not rows:
        return 0, True
    known = dict(
        Delivery.objects.filter(
            any_of("subject", {r.subject for r in rows}), target=target, entity=flow.entity
        ).values_list("subject", "remote_id")
    )
    batch = [OutRecord(key=r.idempotency_key, payload=r.mapped, target_id=known.get(r.subject)) for r in rows]
    try:
        results = adapter.write(flow.entity, batch)  # outside any transaction
    except AdapterError as exc:
        # The whole batch failed: the target or the connector is at fault, not the
        # records, so they wait and retry (and the circuit counts it) rather than
        # being quarantined as bad data.
        # A destination the outbound policy refuses stays refused: quarantine, do not retry.
        refused = isinstance(exc, DestinationRefused)
        error = exc if not exc.permanent or refused else TransientError(f"{exc.message} (the whole batch failed)")
        results = [WriteResult(key=r.idempotency_key, error=error) for r in rows]
    except Exception as exc:  # an adapter bug must not lose the batch: retry it, then dead-letter it
        log.exception("Adapter %s failed on a batch", target.adapter)
        error = TransientError(f"{type(exc).__name__}: {exc}")
        results = [WriteResult(key=r.idempotency_key, error=error) for r in rows]
    done = record_results(run, target, rows, results)
    return done, track_circuit(target, results)


def record_results(run: Run, target: Connector, rows: list[outbox.Claimed], results: list[WriteResult]) -> int:
    """Store each row's result, its delivery cross-reference and the run's counts, in one transaction."""
    flow, now = run.flow, timezone.now()
    by_key = {r.key: r for r in results}
    counts = dict.fromkeys(("created", "updated", "unchanged", "failed", "dead_lettered"), 0)
    stored: list[outbox.Result] = []
    deliveries: dict[str, outbox.DeliveryRef] = {}  # one per subject: the batch's last version wins
    for row in rows:
        result = by_key.get(row.idempotency_key) or WriteResult(
            key=row.idempotency_key, error=TransientError("The adapter returned no result for this record.")
        )
        error = result.error
        if error is None:
            remote_id = str(result.target_id or "")
            stored.append(outbox.Result(row.pk, OutcomeStatus.DELIVERED, result.action, remote_id))
            counts[result.action] += 1
            deliveries[row.subject] = outbox.DeliveryRef(row.pk, row.subject, remote_id, row.idempotency_key)
            continue
        failed = outbox.Result(row.pk, OutcomeStatus.RETRYING, "", "", type(error).__name__)
        failed.error_message = getattr(error, "message", None) or str(error)
        if isinstance(error, PermanentError) or not isinstance(error, AdapterError):
            failed.status = OutcomeStatus.QUARANTINED
            counts["failed"] += 1
        elif row.attempts >= flow.max_attempts:
            failed.status = OutcomeStatus.DEAD
            counts["dead_lettered"] += 1
        else:
            failed.next_attempt_at = next_attempt(row.attempts, flow.retry_base_seconds, error.retry_after)
        stored.append(failed)
    with transaction.atomic():
        outbox.store(stored, list(deliveries.values()), target.pk, flow.entity, now)
        bump(run.pk, **counts)
    return counts["created"] + counts["updated"] + counts["unchanged"]


def track_circuit(target: Connector, results: list[WriteResult]) -> bool:
    """Open the target's circuit after repeated failed batches. False: stop sending for now."""
    if any(r.error is None or isinstance(r.error, PermanentError) for r in results):
        if target.consecutive_failures:
            Connector.objects.filter(pk=target.pk).update(consecutive_failures=0, last_error="")
            target.consecutive_failures = 0
        return True
    failures = target.consecutive_failures = target.consecutive_failures + 1
    message = str(results[0].error) if results else ""
    if failures >= CIRCUIT_THRESHOLD:
        Connector.objects.filter(pk=target.pk).update(
            consecutive_failures=failures,
            circuit=CircuitState.OPEN,
            circuit_retry_at=timezone.now() + circuit_cooldown(),
            last_error=message,
        )
        log.warning("Circuit opened for %s after %d failed batches: %s", target, failures, message)
        return False
    Connector.objects.filter(pk=target.pk).update(consecutive_failures=failures, last_error=message)
    return False  # the failed rows wait for their next attempt time


def finish_if_done(run_id: int) -> bool:
    """Close a run once extraction is complete and no row waits; sets succeeded or partial."""
    run = Run.objects.get(pk=run_id)
    if run.finished or not run.extracted:
        return run.finished
    if run.outcomes.filter(status__in=[OutcomeStatus.PENDING, OutcomeStatus.RETRYING]).exists():
        return False
    problems = run.quarantined or run.failed or run.dead_lettered
    Run.objects.filter(pk=run_id, finished_at__isnull=True).update(
        status=RunStatus.PARTIAL if problems else RunStatus.SUCCEEDED, finished_at=timezone.now(), lease_until=None
    )
    return True


# --- Extraction: source → staged rows -------------------------------------------------------


def take_extraction(run_id: int) -> Run | None:
    """Lease a run's extraction, or None when it is done or another worker holds it."""
    now = timezone.now()
    with transaction.atomic():
        run = Run.objects.select_for_update().select_related("flow__source__system").get(pk=run_id)
        if run.finished or run.extracted or (run.lease_until and run.lease_until > now):
            return None
        run.status, run.lease_until = RunStatus.EXTRACTING, now + lease()
        run.started_at = run.started_at or now
        run.save(update_fields=["status", "lease_until", "started_at"])
    return run


# The tables a run grows page by page, whose statistics must follow (config.statistics): a first
# load starts them empty, and lookups planned for an empty table walk a full one.
GROWN_BY_RUNS = [RecordOutcome, Delivery, *ingest_batch.GROWN]


def extract(run: Run, slice_seconds: float | None = None) -> bool:
    """Read the source from where this run got to, staging page by page; then mark it extracted.

    With ``slice_seconds``, stop after the first page that ends past that time and
    return False: the caller queues the next slice, which goes on from the run's
    watermark. A long first load thus never meets the task time limit. Only pages
    that moved the watermark end a slice (a read that cannot resume would start over).
    """
    flow, stager = run.flow, Stager(run)
    deadline = time.monotonic() + slice_seconds if slice_seconds is not None else None
    if not flow.source.enabled:
        raise PermanentError(f"The source connector {flow.source} is disabled.")
    if flow.source.adapter_class.inbound:
        if not extract_inbound(run, stager, deadline):
            return _end_slice(run)
    else:
        live = run.stage == Stage.LIVE and run.trigger != "replay"
        with flow.source.open_adapter() as adapter:
            start = run.watermark or run.watermark_start or None
            for page in adapter.read(flow.entity, watermark=start, page_size=flow.batch_size):
                stager.stage(page.records, page.watermark)
                if live:
                    adapter.committed(flow.entity, page.watermark)
                start_loading(run)
                refresh_grown(GROWN_BY_RUNS)
                if deadline is not None and page.watermark is not None and time.monotonic() > deadline:
                    return _end_slice(run)
    Run.objects.filter(pk=run.pk).update(extracted=True, lease_until=None, error="")
    return True


def _end_slice(run: Run) -> bool:
    # The lease ends now rather than being cleared: if the next slice's message is lost,
    # the sweeper sees an extraction whose lease ran out and queues it again.
    Run.objects.filter(pk=run.pk).update(lease_until=timezone.now())
    return False


def start_loading(run: Run) -> None:
    """Let other workers load the staged pages while this one reads on (loaders share work safely)."""
    from integrations import tasks

    if not run.dry_run:
        for target_id in run.flow.targets.values_list("pk", flat=True):
            # on_commit: sent at once here, but only after the surrounding transaction when there is one.
            transaction.on_commit(lambda t=target_id: tasks.load_target.delay(run.pk, t))


def waiting_events(connector_id: int):
    """A connector's webhook events no run has claimed yet, oldest first.

    The connector is a range of one value put first in the order (``config.ordering``), an
    order only the index of waiting events (connector, id) gives. Asked as ``connector = x ORDER
    BY id``, and once statistics say most events wait (taken during a burst), PostgreSQL walks
    the primary key from the oldest, long consumed event: 35 ms a page at 100,000 events,
    growing with every event ever received.
    """
    waiting = InboundEvent.objects.filter(one_value("connector_id", connector_id), run__isnull=True)
    return waiting.order_by("connector_id", "pk")


def extract_inbound(run: Run, stager: Stager, deadline: float | None = None) -> bool:
    """Pushed records: claim the connector's unassigned webhook events page by page.
    False: stopped at ``deadline`` with events left (claimed ones stay with the run)."""
    adapter_class = run.flow.source.adapter_class
    source_settings = run.flow.source.settings
    while True:
        with transaction.atomic():
            pending = waiting_events(run.flow.source_id)
            if run.dry_run:  # a dry run looks at what waits and leaves it for the live run
                events = list(pending[: run.flow.batch_size])
                stager.stage([r for e in events for r in adapter_class.records_of(e, source_settings)], None)
                return True
            events = list(pending.select_for_update(skip_locked=True)[: max(1, run.flow.batch_size // 10)])
            if not events:
                return True
            records = [record for event in events for record in adapter_class.records_of(event, source_settings)]
            stager.stage(records, None)
            InboundEvent.objects.filter(pk__in=[e.pk for e in events]).update(run=run)
        start_loading(run)
        refresh_grown(GROWN_BY_RUNS)
        if deadline is not None and time.monotonic() > deadline:
            return False


def fail_run(run_id: int, message: str) -> None:
    Run.objects.filter(pk=run_id).update(
        status=RunStatus.FAILED, error=message, finished_at=timezone.now(), lease_until=None
    )
