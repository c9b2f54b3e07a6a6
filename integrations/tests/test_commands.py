"""``run_flow`` and ``replay_dead_letters``. The pipeline does a worker's steps in this
process while ``run_flow --wait`` pauses, so the command sees a real run finish."""

from io import StringIO

import pytest
from auditlog.models import LogEntry
from django.core.management import CommandError, call_command

from integrations.choices import OutcomeStatus, RunStatus, Stage
from integrations.engine import pipeline
from integrations.models import InboundEvent, Run
from integrations.tests.engine_world import customer_flow, make_target_db, sql_connector, webhook_connector
from integrations.tests.pages import make_flow, make_outcomes, make_run

pytestmark = pytest.mark.django_db

ADA = {"id": "C-1", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "country": "GB"}
BAD = {"id": "C-3", "first_name": "Eve", "last_name": "Null", "email": "not-an-email", "country": "DE"}


@pytest.fixture
def live_flow(tmp_path):
    source = webhook_connector()
    target = sql_connector(make_target_db(tmp_path / "target.sqlite3"))
    return customer_flow(source, target, stage=Stage.LIVE)


@pytest.fixture
def worker_steps(monkeypatch):
    """While the command pauses, do what workers would: extract, load every target, finish."""

    def step(seconds):
        for run in Run.objects.exclude(status__in=[RunStatus.SUCCEEDED, RunStatus.PARTIAL, RunStatus.FAILED]):
            taken = pipeline.take_extraction(run.pk)
            if taken is not None:
                pipeline.extract(taken)
            for target in run.flow.targets.all():
                pipeline.load(run.pk, target.pk)
            pipeline.finish_if_done(run.pk)

    monkeypatch.setattr("integrations.management.commands.run_flow.pause", step)


def push(flow, *records):
    InboundEvent.objects.create(connector=flow.source, event_id=f"e-{InboundEvent.objects.count()}", records=records)


def run_command(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_run_flow_waits_and_prints_the_counts(live_flow, worker_steps):
    push(live_flow, ADA)
    output = run_command("run_flow", live_flow.name, "--wait", "--interval", "0")
    run = Run.objects.get()
    assert f"Started run {run.pk}" in output
    assert f"Run {run.pk}: Succeeded." in output and "read 1" in output and "created 1" in output
    entry = LogEntry.objects.get_for_object(live_flow).get(additional_data__action="run")
    assert entry.actor is None and entry.additional_data["via"] == "command"


def test_run_flow_exits_1_when_the_run_has_problems(live_flow, worker_steps):
    push(live_flow, ADA, BAD)
    with pytest.raises(CommandError) as failure:
        run_command("run_flow", str(live_flow.pk), "--wait", "--interval", "0")
    assert failure.value.returncode == 1
    assert "finished with problems" in str(failure.value)


def test_run_flow_without_wait_only_starts_it():
    flow = make_flow(stage=Stage.TEST)
    output = run_command("run_flow", flow.name)
    run = Run.objects.get()
    assert output.strip() == f"Started run {run.pk} of “{flow}” (Test (dry run) stage)."
    assert run.status == RunStatus.QUEUED and run.trigger == "manual"


def test_run_flow_explains_what_is_wrong():
    with pytest.raises(CommandError, match="No flow is named or numbered 'nope'"):
        run_command("run_flow", "nope")
    flow = make_flow()
    with pytest.raises(CommandError, match="move it to test, pilot or live first"):
        run_command("run_flow", flow.name)


@pytest.fixture
def dead_letters():
    flow = make_flow("Orders", entity="sales_order", stage=Stage.LIVE, mapping=[])
    run = make_run(flow)
    make_outcomes(run, 2, status=OutcomeStatus.DEAD, error_class="TransientError")
    make_outcomes(run, 1, status=OutcomeStatus.DEAD, error_class="PeerUnavailableError")
    make_outcomes(run, 2, status=OutcomeStatus.QUARANTINED, error_class="PermanentError")
    return flow, run


def test_replay_dry_run_counts_and_changes_nothing(dead_letters):
    flow, _run = dead_letters
    assert run_command("replay_dead_letters", "--flow", flow.name, "--dry-run").strip() == (
        "Would replay 5 records of “Orders”."
    )
    assert "Would replay 2 records" in run_command(
        "replay_dead_letters",
        "--flow",
        str(flow.pk),
        "--status",
        "dead",
        "--error-class",
        "TransientError",
        "--dry-run",
    )
    assert Run.objects.count() == 1


def test_replay_starts_a_run_with_the_chosen_records(dead_letters):
    flow, run = dead_letters
    output = run_command("replay_dead_letters", "--flow", flow.name, "--status", "quarantined")
    replay = Run.objects.exclude(pk=run.pk).get()
    assert output.strip() == f"Replayed 2 records of “Orders” in run {replay.pk}."
    assert replay.outcomes.count() == 2 and replay.trigger == "replay"
    assert LogEntry.objects.get_for_object(flow).get(additional_data__action="replay").additional_data["records"] == 2
    assert "Nothing to replay" in run_command("replay_dead_letters", "--flow", flow.name, "--status", "quarantined")


def test_replay_refused_for_a_paused_flow(dead_letters):
    flow, _run = dead_letters
    flow.stage = Stage.PAUSED
    flow.save()
    with pytest.raises(CommandError, match="pilot or live"):
        run_command("replay_dead_letters", "--flow", flow.name)
