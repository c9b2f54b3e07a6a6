"""Applied survivorship rules reach the targets: a golden record whose values the rules changed is
updated at every target holding it, where its mapped values changed, the same way a merge updates its
survivor (engine/merges.py); written to a real SQL target (SQLite through the SQL adapter), retried
through the sweeper, never failing the application."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.choices import Stage
from integrations.engine import merges
from integrations.engine.sweeper import sweep
from integrations.models import Delivery, TargetChange
from integrations.tests.engine_world import customer_flow, make_target_db, sql_connector, target_rows, webhook_connector
from integrations.tests.factories import SystemFactory
from masterdata import tasks
from masterdata.choices import Strategy
from masterdata.models import GoldenRecord, RuleApplication
from masterdata.services.apply_rules import start_apply
from masterdata.services.rules import set_rule
from masterdata.tests.factories import golden_with_sources

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tmp_path):
    """Ada, from the ERP and (newer, another email) the shop; delivered to a reporting database by a
    live flow with the shop's email, as "most recent" gave it."""
    erp, shop = SystemFactory(name="ERP"), SystemFactory(name="Shop")
    golden = golden_with_sources(
        (erp, "E-1", {"last_name": "Lovelace", "email": "ada@erp.example", "country": "GB"}),
        (shop, "S-1", {"last_name": "Lovelace", "email": "ada@shop.example", "country": "GB"}),
    )
    db = make_target_db(tmp_path / "reporting.sqlite3")
    target = sql_connector(db)
    flow = customer_flow(webhook_connector(), target)
    payload = {"key": golden.pk, "last_name": "Lovelace", "email": "ada@shop.example", "country": "GB"}
    Delivery.objects.create(
        target=target,
        entity="customer",
        subject=f"golden:{golden.pk}",
        remote_id=str(golden.pk),
        last_key="k",
        payload=payload,
        flow=flow,
        external_id="S-1",
    )
    return {"erp": erp, "golden": golden, "db": db, "target": target, "flow": flow, "payload": payload}


def apply(entity: str = "customer") -> RuleApplication:
    application, _ = start_apply(entity, user=None)
    tasks.apply_rules(application.pk)
    return RuleApplication.objects.get(pk=application.pk)


def test_a_record_the_rules_changed_is_updated_where_it_was_delivered(world, django_capture_on_commit_callbacks):
    set_rule("customer", "email", Strategy.MOST_TRUSTED, [world["erp"].pk])
    application, _ = start_apply("customer", user=None)

    with django_capture_on_commit_callbacks() as queued:
        tasks.apply_rules(application.pk)

    [row] = TargetChange.objects.all()
    assert (row.application_id, row.merge, row.action, row.status) == (application.pk, None, "update", "pending")
    assert (row.target, row.remote_id, row.reason) == (world["target"], str(world["golden"].pk), "rules applied")
    assert row.payload == {**world["payload"], "email": "ada@erp.example"}
    assert len(queued) == 1  # the worker that writes it, after the batch's commit

    assert merges.perform_application(application.pk) == 0
    row.refresh_from_db()
    assert row.status == "done" and row.attempts == 1
    assert target_rows(world["db"]) == [(str(world["golden"].pk), "Lovelace", "ada@erp.example", "GB")]
    # What the target holds now: later dry runs diff against it.
    assert Delivery.objects.get().payload["email"] == "ada@erp.example"


def test_nothing_is_planned_when_the_mapped_values_stay_the_same(world):
    set_rule("customer", "last_name", Strategy.MOST_TRUSTED, [world["erp"].pk])  # both sources agree
    set_rule("customer", "city", Strategy.MOST_COMPLETE, [])  # a field the mapping does not send
    GoldenRecord.objects.filter(pk=world["golden"].pk).update(lineage={})  # so the record itself changes

    application = apply()

    assert application.changed == 1 and not TargetChange.objects.exists()


def test_a_flow_no_longer_delivering_gets_no_update(world):
    world["flow"].stage = Stage.PAUSED
    world["flow"].save()
    set_rule("customer", "email", Strategy.MOST_TRUSTED, [world["erp"].pk])

    assert apply().changed == 1
    assert not TargetChange.objects.exists()


def test_an_update_whose_message_was_lost_is_queued_again_by_the_sweeper(world):
    set_rule("customer", "email", Strategy.MOST_TRUSTED, [world["erp"].pk])
    application = apply()
    assert sweep()["rule_applications"] == 0  # just planned: its own message is on its way
    TargetChange.objects.update(created=timezone.now() - timedelta(minutes=1))

    assert merges.due_applications(timezone.now()) == [application.pk]
    assert merges.due_merges(timezone.now()) == []
    assert sweep()["rule_applications"] == 1


def test_a_target_that_is_away_is_tried_again_later(world):
    world["target"].enabled = False
    world["target"].save()
    set_rule("customer", "email", Strategy.MOST_TRUSTED, [world["erp"].pk])
    application = apply()

    assert merges.perform_application(application.pk) == 1
    row = TargetChange.objects.get()
    assert row.status == "pending" and row.attempts == 1 and row.error.startswith("Will try again: ")
    assert timedelta(seconds=14) < row.next_attempt_at - timezone.now() <= timedelta(seconds=15)
    assert target_rows(world["db"]) == []


def test_rows_another_worker_leased_are_not_written_twice(world):
    set_rule("customer", "email", Strategy.MOST_TRUSTED, [world["erp"].pk])
    application = apply()
    leased = merges._lease(TargetChange.objects.filter(status="pending"))  # a first worker takes the row

    assert len(leased) == 1
    assert merges.perform_application(application.pk) == 1  # a second message finds nothing due
    assert TargetChange.objects.get().attempts == 0 and target_rows(world["db"]) == []


def test_the_application_stands_when_planning_fails(world, monkeypatch, caplog):
    def broken(application, goldens):
        raise RuntimeError("a bug")

    monkeypatch.setattr(merges, "plan_recomputed", broken)
    set_rule("customer", "email", Strategy.MOST_TRUSTED, [world["erp"].pk])

    application = apply()

    assert (application.status, application.changed) == ("done", 1)
    assert GoldenRecord.objects.get().values["email"] == "ada@erp.example"
    assert "its updates at the targets could not be planned" in caplog.text


def test_the_golden_record_page_shows_the_update_at_the_target(world, client_for, personas):
    set_rule("customer", "email", Strategy.MOST_TRUSTED, [world["erp"].pk])
    application = apply()
    merges.perform_application(application.pk)

    html = client_for(personas["steward"]).get(world["golden"].get_absolute_url()).content.decode()
    assert "Survivorship rules applied" in html and 'data-testid="target-change"' in html
    assert "Updated at Reporting DB" in html
    viewer = client_for(personas["viewer"]).get(world["golden"].get_absolute_url()).content.decode()
    assert "Survivorship rules applied" not in viewer  # Viewers do not see target changes
