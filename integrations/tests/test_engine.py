"""The pipeline step by step, in this process: staging, dry runs, idempotency, retries,
the dead-letter queue and replay, the circuit breaker. Targets are real SQLite
databases written through the SQL adapter. Worker processes are exercised in
test_engine_worker.py; here the steps are called directly so each can be checked.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.choices import CircuitState, OutcomeStatus, RunStatus, Stage
from integrations.engine import actions, pipeline, sweeper
from integrations.models import Connector, Delivery, Flow, InboundEvent, RecordOutcome, Run
from integrations.tests.engine_world import (
    customer_flow,
    make_target_db,
    sql_connector,
    target_rows,
    webhook_connector,
)

pytestmark = pytest.mark.django_db

ADA = {"id": "C-1", "first_name": "Ada", "last_name": "Lovelace", "email": "ADA@example.com", "country": "gb"}
BOB = {"id": "C-2", "first_name": "Bob", "last_name": "Stone", "email": "bob@example.com", "country": "US"}
BAD = {"id": "C-3", "first_name": "Eve", "last_name": "Null", "email": "not-an-email", "country": "DE"}


@pytest.fixture
def world(tmp_path):
    path = make_target_db(tmp_path / "target.sqlite3")
    source = webhook_connector()
    target = sql_connector(path)
    return source, target, path


def push(source, *records, event_id=None):
    InboundEvent.objects.create(
        connector=source, event_id=event_id or f"e-{InboundEvent.objects.count()}", records=list(records)
    )


def run_once(flow) -> Run:
    """One whole run without a worker: start, extract, load every target, finish."""
    run = actions.start_run(flow)
    extract_and_load(run)
    return Run.objects.get(pk=run.pk)


def extract_and_load(run):
    taken = pipeline.take_extraction(run.pk)
    assert taken is not None
    pipeline.extract(taken)
    for target in run.flow.targets.all():
        pipeline.load(run.pk, target.pk)
    pipeline.finish_if_done(run.pk)


def test_a_live_run_cleanses_matches_maps_and_loads(world):
    source, target, path = world
    flow = customer_flow(source, target)
    push(source, ADA, BOB, BAD)

    run = run_once(flow)

    assert (run.status, run.read, run.created, run.quarantined) == (RunStatus.PARTIAL, 3, 2, 1)
    rows = target_rows(path)
    assert sorted((r[1], r[2], r[3]) for r in rows) == [  # keyed by golden id, whose order the worker decides
        ("Lovelace", "ada@example.com", "GB"),
        ("Stone", "bob@example.com", "US"),
    ]
    bad = run.outcomes.get(status=OutcomeStatus.QUARANTINED)
    assert bad.external_id == "C-3" and bad.target is None
    assert "email" in bad.error_message  # a reason a person can read
    assert Delivery.objects.filter(target=target).count() == 2
    assert InboundEvent.objects.filter(run=run).count() == 1


def test_the_same_record_again_is_unchanged_and_a_new_version_updates(world):
    source, target, path = world
    flow = customer_flow(source, target)
    push(source, ADA, event_id="first")
    run_once(flow)

    push(source, ADA, event_id="resent")  # the same record, delivered again
    again = run_once(flow)
    assert (again.read, again.unchanged, again.created, again.updated) == (1, 1, 0, 0)

    push(source, {**ADA, "email": "ada@lovelace.org"}, event_id="changed")
    changed = run_once(flow)
    assert (changed.updated, changed.created) == (1, 0)
    assert [r[2] for r in target_rows(path)] == ["ada@lovelace.org"]  # one row, updated in place


def test_a_dry_run_reports_the_diff_and_writes_nothing(world):
    source, target, path = world
    live = customer_flow(source, target)
    push(source, ADA, event_id="live")
    run_once(live)
    live.stage = Stage.TEST
    live.save()

    push(source, {**ADA, "email": "ada@new.example"}, BOB, event_id="dry")
    run = run_once(live)

    assert (run.status, run.planned, run.created, run.updated) == (RunStatus.SUCCEEDED, 2, 0, 0)
    plans = {o.external_id: o for o in run.outcomes.all()}
    assert plans["C-2"].action == "created" and plans["C-2"].diff["last_name"] == [None, "Stone"]
    assert plans["C-1"].action == "updated" and plans["C-1"].diff == {"email": ["ada@example.com", "ada@new.example"]}
    assert [r[2] for r in target_rows(path)] == ["ada@example.com"]  # untouched


def test_the_pilot_delivers_only_what_the_pilot_filter_selects(world):
    source, target, path = world
    flow = customer_flow(
        source, target, stage=Stage.PILOT, pilot_filter=[{"field": "country", "op": "eq", "value": "US"}]
    )
    push(source, ADA, BOB)
    run = run_once(flow)
    assert (run.created, run.filtered) == (1, 1)
    assert [r[1] for r in target_rows(path)] == ["Stone"]


def test_transient_failures_retry_then_dead_letter_and_replay_delivers(world, tmp_path):
    source, target, path = world
    target.settings = {**target.settings, "path": str(tmp_path / "missing-dir" / "db.sqlite3")}  # unreachable
    target.save()
    flow = customer_flow(source, target, max_attempts=2)
    push(source, ADA)
    run = actions.start_run(flow)
    pipeline.extract(pipeline.take_extraction(run.pk))

    pipeline.load(run.pk, target.pk)
    outcome = RecordOutcome.objects.get(run=run, target=target)
    assert (outcome.status, outcome.attempts) == (OutcomeStatus.RETRYING, 1)
    assert outcome.error_class == "TransientError" and outcome.next_attempt_at > timezone.now()

    pipeline.load(run.pk, target.pk)  # not due yet: nothing is sent
    assert RecordOutcome.objects.get(pk=outcome.pk).attempts == 1

    RecordOutcome.objects.filter(pk=outcome.pk).update(next_attempt_at=timezone.now())
    pipeline.load(run.pk, target.pk)
    outcome.refresh_from_db()
    assert (outcome.status, outcome.attempts) == (OutcomeStatus.DEAD, 2)
    assert Run.objects.get(pk=run.pk).dead_lettered == 1
    assert pipeline.finish_if_done(run.pk)
    assert Run.objects.get(pk=run.pk).status == RunStatus.PARTIAL

    target.settings = {**target.settings, "path": str(path)}  # the target is back
    target.save()
    Connector.objects.filter(pk=target.pk).update(circuit=CircuitState.CLOSED, consecutive_failures=0)
    replay = actions.replay(RecordOutcome.objects.filter(pk=outcome.pk))
    pipeline.load(replay.pk, target.pk)
    outcome.refresh_from_db()
    assert (outcome.status, outcome.run_id, outcome.attempts) == (OutcomeStatus.DELIVERED, replay.pk, 1)
    assert len(target_rows(path)) == 1
    assert Run.objects.get(pk=replay.pk).created == 1


def test_a_dead_lettered_record_the_source_sends_again_is_delivered_not_counted_unchanged(world, tmp_path):
    source, target, path = world
    target.settings = {**target.settings, "path": str(tmp_path / "missing-dir" / "db.sqlite3")}  # unreachable
    target.save()
    flow = customer_flow(source, target, max_attempts=1)
    push(source, ADA, event_id="first")
    first = run_once(flow)
    dead = RecordOutcome.objects.get(run=first)
    assert (first.dead_lettered, dead.status) == (1, OutcomeStatus.DEAD)

    target.settings = {**target.settings, "path": str(path)}  # the target is back
    target.save()
    Connector.objects.filter(pk=target.pk).update(circuit=CircuitState.CLOSED, consecutive_failures=0)
    push(source, ADA, event_id="again")  # the shop retries the very same record
    again = run_once(flow)

    assert (again.read, again.unchanged, again.created, again.status) == (1, 0, 1, RunStatus.SUCCEEDED)
    revived = RecordOutcome.objects.get(pk=dead.pk)  # the same row: one key, one record, never two
    assert (revived.run_id, revived.status, revived.attempts) == (again.pk, OutcomeStatus.DELIVERED, 1)
    assert len(target_rows(path)) == 1
    assert not RecordOutcome.objects.filter(status=OutcomeStatus.DEAD).exists()  # gone from the queue

    push(source, ADA, event_id="third")  # delivered now: a re-send is unchanged, as ever
    assert run_once(flow).unchanged == 1


def test_a_record_the_target_refuses_is_quarantined_not_retried(world):
    source, target, _path = world
    flow = customer_flow(
        source,
        target,
        mapping=[
            {"target": "key", "op": "copy", "from": "golden_id"},
            {"target": "no_such_column", "op": "constant", "value": 1},
        ],
    )
    push(source, ADA)
    run = run_once(flow)
    outcome = run.outcomes.get()
    assert (outcome.status, outcome.error_class, run.failed) == (OutcomeStatus.QUARANTINED, "PermanentError", 1)
    assert "no_such_column" in outcome.error_message


def test_a_mapping_error_quarantines_the_record_with_the_rule(world):
    source, target, _ = world
    flow = customer_flow(
        source, target, mapping=[{"target": "x", "op": "lookup", "from": "country", "table": {"DE": "Germany"}}]
    )
    push(source, ADA)
    run = run_once(flow)
    outcome = run.outcomes.get()
    assert outcome.status == OutcomeStatus.QUARANTINED and outcome.error_class == "MappingError"
    assert outcome.error_message.startswith("Mapping rule 1 (x): 'GB' is not in the lookup table")


def test_discard_needs_a_reason_and_keeps_the_record(world):
    source, target, _ = world
    flow = customer_flow(source, target)
    push(source, BAD)
    run = run_once(flow)
    with pytest.raises(actions.ActionError):
        actions.discard(run.outcomes.all(), "  ")
    assert actions.discard(run.outcomes.all(), "Test customer, not real") == 1
    assert run.outcomes.get().discard_reason == "Test customer, not real"


def test_the_circuit_opens_after_repeated_failures_and_a_probe_closes_it(world, tmp_path):
    source, target, _path = world
    good = target.settings["path"]
    target.settings = {**target.settings, "path": str(tmp_path / "nowhere" / "db.sqlite3")}
    target.save()
    flow = customer_flow(source, target, max_attempts=10, batch_size=1)
    push(source, ADA, BOB, {**BOB, "id": "C-9", "email": "c9@example.com"})
    run = actions.start_run(flow)
    pipeline.extract(pipeline.take_extraction(run.pk))
    for _ in range(pipeline.CIRCUIT_THRESHOLD):
        RecordOutcome.objects.filter(run=run).update(next_attempt_at=None)
        pipeline.load(run.pk, target.pk)
    target.refresh_from_db()
    assert target.circuit == CircuitState.OPEN and "unable to open" in target.last_error.lower()
    assert pipeline.load(run.pk, target.pk) == 0  # open: nothing is sent

    Connector.objects.filter(pk=target.pk).update(circuit_retry_at=timezone.now() - timedelta(seconds=1))
    assert sweeper.probe(Connector.objects.get(pk=target.pk)) is False  # still down: stays open
    target.settings = {**target.settings, "path": good}
    target.save()
    assert sweeper.probe(Connector.objects.get(pk=target.pk)) is True
    assert Connector.objects.get(pk=target.pk).circuit == CircuitState.CLOSED


def test_stage_transitions(world):
    source, target, _ = world
    flow = customer_flow(source, target, stage=Stage.DRAFT)
    with pytest.raises(actions.ActionError):
        actions.start_run(flow)  # a draft does not run
    with pytest.raises(actions.ActionError):
        actions.promote(flow, Stage.LIVE)  # no skipping the test stage
    actions.promote(flow, Stage.TEST)
    with pytest.raises(actions.ActionError, match="pilot filter"):
        actions.promote(flow, Stage.PILOT)
    actions.promote(flow, Stage.LIVE)
    assert flow.stage == Stage.LIVE


def test_the_flow_watermark_moves_only_in_live_runs(world):
    source, target, _ = world
    flow = customer_flow(source, target, stage=Stage.TEST)
    run = actions.start_run(flow)
    stager = pipeline.Stager(run)
    from integrations.adapters.base import SourceRecord

    stager.stage([SourceRecord("C-1", ADA)], "2026-11-01T00:00:00")
    flow.refresh_from_db()
    assert flow.watermark == "" and Run.objects.get(pk=run.pk).watermark == "2026-11-01T00:00:00"
    flow.stage = Stage.LIVE
    flow.save()
    live = actions.start_run(flow)
    pipeline.Stager(live).stage([SourceRecord("C-1", ADA)], "2026-11-02T00:00:00")
    flow.refresh_from_db()
    assert flow.watermark == "2026-11-02T00:00:00"


def test_a_run_starts_from_the_stored_watermark_even_given_an_old_copy_of_the_flow(world):
    from integrations.adapters.base import SourceRecord

    source, target, _ = world
    flow = customer_flow(source, target)
    old_copy = Flow.objects.get(pk=flow.pk)
    pipeline.Stager(actions.start_run(flow)).stage([SourceRecord("C-1", ADA)], "2026-11-02T00:00:00")
    assert old_copy.watermark == ""  # loaded before that run moved the flow's watermark

    assert actions.start_run(old_copy).watermark_start == "2026-11-02T00:00:00"


def test_a_dry_run_of_master_data_changes_no_master_data_and_leaves_pushed_events(world):
    from masterdata.models import GoldenRecord, SourceRecord

    source, target, _ = world
    flow = customer_flow(source, target, stage=Stage.TEST)
    push(source, ADA, BAD)
    run = run_once(flow)
    assert (run.read, run.planned, run.quarantined) == (2, 1, 1)
    assert not GoldenRecord.objects.exists() and not SourceRecord.objects.exists()
    assert InboundEvent.objects.filter(run__isnull=True).count() == 1  # still there for the live run


def test_a_paused_flow_delivers_nothing_until_resumed(world):
    source, target, path = world
    flow = customer_flow(source, target)
    push(source, ADA)
    run = actions.start_run(flow)
    pipeline.extract(pipeline.take_extraction(run.pk))
    actions.promote(flow, Stage.PAUSED)
    assert pipeline.load(run.pk, target.pk) == 0 and target_rows(path) == []
    actions.promote(flow, Stage.TEST)  # back to testing: a live run's rows still wait
    assert pipeline.load(run.pk, target.pk) == 0 and target_rows(path) == []
    assert sweeper.sweep()["deliveries"] == 0
    actions.promote(flow, Stage.LIVE)
    assert pipeline.load(run.pk, target.pk) == 1


def test_a_record_a_dry_run_quarantined_is_delivered_by_the_live_run_after_the_fix(world):
    source, target, path = world
    flow = customer_flow(source, target, stage=Stage.TEST)
    good_mapping = flow.mapping
    flow.mapping = [*good_mapping, {"target": "region", "op": "lookup", "from": "country", "table": {"US": "NA"}}]
    flow.save()
    push(source, ADA)

    dry = run_once(flow)
    assert dry.quarantined == 1  # GB is not in the lookup table
    assert actions.replay(RecordOutcome.objects.filter(run=dry)) is None  # a plan, not in the dead-letter queue

    flow.mapping = good_mapping
    flow.save()
    actions.promote(flow, Stage.LIVE)
    live = run_once(flow)
    assert (live.read, live.created, live.unchanged) == (1, 1, 0)
    assert [r[2] for r in target_rows(path)] == ["ada@example.com"]


def test_pushed_events_start_runs_only_for_pilot_and_live_flows(world):
    from integrations import tasks

    source, target, _ = world
    flow = customer_flow(source, target, stage=Stage.TEST)
    push(source, ADA)
    tasks.process_inbound(source.pk)
    assert not flow.runs.exists()  # a flow in test is dry-run on request, not on every sweep
    actions.promote(flow, Stage.LIVE)
    tasks.process_inbound(source.pk)
    assert flow.runs.count() == 1


def test_a_late_wake_up_for_events_a_run_already_took_starts_no_empty_run(world):
    from integrations import tasks

    source, target, _ = world
    flow = customer_flow(source, target)
    push(source, ADA)
    tasks.process_inbound(source.pk)
    extract_and_load(flow.runs.get())  # takes the event

    tasks.process_inbound(source.pk)  # the webhook's or the sweeper's wake-up, arriving after that run
    assert flow.runs.count() == 1
    push(source, BOB)
    tasks.process_inbound(source.pk)
    assert flow.runs.count() == 2


def test_a_long_read_goes_on_in_slices_from_the_runs_watermark(world, tmp_path):
    import sqlite3

    _, target, path = world
    source_db = tmp_path / "shop.sqlite3"
    with sqlite3.connect(source_db) as db:
        db.execute("CREATE TABLE orders (id TEXT PRIMARY KEY, customer TEXT, total TEXT, changed TEXT)")
        db.executemany(  # ties on the watermark column too: the read resumes by (watermark, id)
            "INSERT INTO orders VALUES (?, ?, ?, ?)",
            ((f"O-{n:04d}", "", f"{n}.00", f"2026-11-01T00:00:{n // 7:02d}") for n in range(250)),
        )
    source = Connector.objects.create(
        system=target.system,
        name="Shop DB",
        adapter="sql",
        settings={
            "dialect": "sqlite",
            "path": str(source_db),
            "entities": {"sales_order": {"table": "orders", "id_column": "id", "watermark_column": "changed"}},
        },
    )
    flow = Flow.objects.create(
        name="Orders",
        entity="sales_order",
        source=source,
        trigger="manual",
        stage=Stage.LIVE,
        batch_size=40,
        mapping=[{"target": c, "op": "copy", "from": c} for c in ("id", "customer", "total")],
    )
    flow.targets.add(target)
    run = actions.start_run(flow)

    slices = 0
    while not pipeline.extract(pipeline.take_extraction(run.pk), slice_seconds=0):  # each page ends a slice
        slices += 1
        assert Run.objects.get(pk=run.pk).lease_until <= timezone.now()  # the sweeper would resume a lost slice
    pipeline.load(run.pk, target.pk)
    pipeline.finish_if_done(run.pk)

    run.refresh_from_db()
    assert slices == 7  # 7 pages of up to 40 rows, each ending a slice; the 8th slice finds no more
    assert (run.status, run.read, run.created, run.unchanged) == (RunStatus.SUCCEEDED, 250, 250, 0)
    assert len(target_rows(path, "orders")) == 250


def test_pushed_events_are_taken_in_slices_too(world):
    source, target, _ = world
    flow = customer_flow(source, target, batch_size=10)  # one event per claim
    for n in range(3):
        push(source, {**ADA, "id": f"C-{n}", "email": f"ada{n}@example.com"})
    run = actions.start_run(flow)
    assert not pipeline.extract(pipeline.take_extraction(run.pk), slice_seconds=0)
    assert InboundEvent.objects.filter(run=run).count() == 1
    while not pipeline.extract(pipeline.take_extraction(run.pk), slice_seconds=0):
        pass
    pipeline.load(run.pk, target.pk)
    assert Run.objects.get(pk=run.pk).created == 3


def test_an_order_references_its_customer_by_the_targets_own_id(world):
    source, _, path = world
    customers, orders, shop = order_world(world)  # the same shop sends customers and orders
    push(source, ADA, event_id="customers")
    run_once(customers)
    push(
        shop, {"id": "O-1", "customer_id": "C-1", "total": "12.50"}, {"id": "O-2", "customer_id": "C-404", "total": "1"}
    )

    run = run_once(orders)

    golden_key = target_rows(path)[0][0]
    assert target_rows(path, "orders") == [("O-1", golden_key, "12.50")]
    unknown = run.outcomes.get(external_id="O-2")
    assert (unknown.status, unknown.error_class) == (OutcomeStatus.RETRYING, "UnresolvedReference")
    assert unknown.error_message.startswith("Waiting: Mapping rule 2 (customer): customer 'C-404' has not reached")
    assert unknown.error_message.endswith("Reporting DB yet. Checked again automatically for up to 60 minutes.")
    assert unknown.mapped is None and unknown.next_attempt_at > timezone.now()
    assert run.finished_at is None  # the run waits with its record


def order_world(world):
    """A customers flow and an orders flow from one shop into the SQL target."""
    source, target, _ = world
    customers = customer_flow(source, target, name="Customers")
    shop = webhook_connector("Order webhook")
    shop.system = source.system
    shop.save()
    orders = Flow.objects.create(
        name="Orders",
        entity="sales_order",
        source=shop,
        trigger="push",
        stage=Stage.LIVE,
        mapping=[
            {"target": "id", "op": "copy", "from": "id"},
            {"target": "customer", "op": "reference", "from": "customer_id", "entity": "customer"},
            {"target": "total", "op": "copy", "from": "total"},
        ],
    )
    orders.targets.add(target)
    return customers, orders, shop


def check_again(run, target):
    """The waiting rows' next check comes round (the sweeper would queue this load)."""
    run.outcomes.filter(status=OutcomeStatus.RETRYING).update(next_attempt_at=timezone.now())
    pipeline.load(run.pk, target.pk)
    return Run.objects.get(pk=run.pk)


def test_an_order_that_arrives_before_its_customer_waits_and_is_delivered_when_it_comes(world):
    source, target, path = world
    customers, orders, shop = order_world(world)
    push(shop, {"id": "O-9", "customer_id": "C-1", "total": "9.90"})
    run = run_once(orders)
    assert target_rows(path, "orders") == []

    check_again(run, target)  # still no customer: waits on, nothing sent, nothing counted as failed
    waiting = run.outcomes.get()
    assert (waiting.status, waiting.attempts) == (OutcomeStatus.RETRYING, 1)
    assert not pipeline.finish_if_done(run.pk)

    push(source, ADA, event_id="customers")
    run_once(customers)
    run = check_again(run, target)

    golden_key = target_rows(path)[0][0]
    assert target_rows(path, "orders") == [("O-9", golden_key, "9.90")]
    delivered = run.outcomes.get()
    assert (delivered.status, delivered.error_message, delivered.mapped["customer"]) == (
        OutcomeStatus.DELIVERED,
        "",
        golden_key,
    )
    assert pipeline.finish_if_done(run.pk)
    run.refresh_from_db()
    assert (run.status, run.created, run.quarantined, run.dead_lettered) == (RunStatus.SUCCEEDED, 1, 0, 0)


def test_a_reference_that_never_comes_is_dead_lettered_and_a_replay_waits_afresh(world, settings):
    source, target, path = world
    customers, orders, shop = order_world(world)
    push(shop, {"id": "O-7", "customer_id": "C-1", "total": "7.00"})
    settings.JUNCTION_REFERENCE_WAIT_MINUTES = 0  # the wait is over at the first check
    run = check_again(run_once(orders), target)

    dead = run.outcomes.get()
    assert (dead.status, dead.error_class) == (OutcomeStatus.DEAD, "UnresolvedReference")
    assert "customer 'C-1' has not reached Reporting DB yet after waiting 0 minutes; replay" in dead.error_message
    assert pipeline.finish_if_done(run.pk)
    assert Run.objects.get(pk=run.pk).status == RunStatus.PARTIAL

    settings.JUNCTION_REFERENCE_WAIT_MINUTES = 60
    replay = actions.replay(RecordOutcome.objects.filter(pk=dead.pk))
    dead.refresh_from_db()
    assert (dead.run_id, dead.status, dead.attempts) == (replay.pk, OutcomeStatus.RETRYING, 0)
    push(source, ADA, event_id="customers")
    run_once(customers)
    replay = check_again(replay, target)
    assert [row[0] for row in target_rows(path, "orders")] == ["O-7"]
    assert replay.created == 1


def test_a_dry_run_says_a_live_run_would_wait_for_the_reference(world):
    _, orders, shop = order_world(world)
    orders.stage = Stage.TEST
    orders.save()
    push(shop, {"id": "O-5", "customer_id": "C-1", "total": "5.00"})
    plan = run_once(orders).outcomes.get()
    assert plan.status == OutcomeStatus.QUARANTINED and plan.dry_run
    assert plan.error_message.endswith("has not reached Reporting DB yet; a live run waits up to 60 minutes for it")


def test_a_reference_may_hold_another_systems_id(world):
    source, target, path = world  # the source system plays the CRM here
    customer_flow(source, target, name="Customers")
    push(source, ADA, event_id="customers")
    run_once(source.outbound_flows.get())
    tills = webhook_connector("Till webhook")  # a system of its own, which knows the CRM's numbers
    mapping_rules = [
        {"target": "id", "op": "copy", "from": "id"},
        {"target": "customer", "op": "reference", "from": "crm_no", "entity": "customer", "system": source.system.name},
        {"target": "total", "op": "copy", "from": "total"},
    ]
    sales = Flow.objects.create(
        name="Till sales", entity="sales_order", source=tills, trigger="push", stage=Stage.LIVE, mapping=mapping_rules
    )
    sales.targets.add(target)
    push(tills, {"id": "T-1", "crm_no": "C-1", "total": "3.20"}, {"id": "T-2", "crm_no": "C-404", "total": "1"})

    run = run_once(sales)

    golden_key = target_rows(path)[0][0]
    assert target_rows(path, "orders") == [("T-1", golden_key, "3.20")]
    assert "customer 'C-404' has not reached Reporting DB" in run.outcomes.get(external_id="T-2").error_message


@pytest.mark.parametrize(("locale", "born"), [("en_GB", "1980-04-03"), ("en_US", "1980-03-04")])
def test_the_source_systems_locale_reads_its_dates(world, locale, born):
    from masterdata.models import GoldenRecord

    source, target, _ = world
    source.system.locale = locale
    source.system.save()
    push(source, {**ADA, "date_of_birth": "03/04/1980"})
    run_once(customer_flow(source, target))
    assert GoldenRecord.objects.get().values["date_of_birth"] == born


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"trigger": "manual"}, "trigger"),  # a webhook pushes
        ({"trigger": "schedule", "schedule_minutes": None}, "trigger"),
    ],
)
def test_flow_rules_are_field_errors(world, changes, field):
    from django.core.exceptions import ValidationError

    source, target, _ = world
    flow = customer_flow(source, target)
    for name, value in changes.items():
        setattr(flow, name, value)
    with pytest.raises(ValidationError) as caught:
        flow.full_clean()
    assert field in caught.value.message_dict


def test_one_flow_per_webhook(world):
    from django.core.exceptions import ValidationError

    source, target, _ = world
    customer_flow(source, target)
    second = Flow(name="Second", entity="customer", source=source, trigger="push")
    with pytest.raises(ValidationError) as caught:
        second.full_clean()
    assert "one flow per webhook" in str(caught.value.message_dict["source"])
