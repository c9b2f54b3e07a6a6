"""Applying changed survivorship rules to the golden records already stored (services/apply_rules.py):
recomputed with the current rules, pins kept, only changed records written (audited, keys rebuilt),
one application per entity at a time, carried on after a worker died.

The task runs in this process here (``tasks.apply_rules``, as the worker calls it); a real worker
runs it in the browser test (tests/browser/test_survivorship.py).
"""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.utils import timezone

from integrations.tests.factories import SystemFactory
from masterdata import tasks
from masterdata.choices import JobStatus, Strategy
from masterdata.matching import blocking_keys
from masterdata.models import BlockingKey, GoldenRecord, RuleApplication
from masterdata.services import apply_rules
from masterdata.services.apply_rules import start_apply
from masterdata.services.rules import set_rule
from masterdata.tests.factories import golden_with_sources

pytestmark = pytest.mark.django_db


@pytest.fixture
def erp():
    return SystemFactory(name="ERP")


@pytest.fixture
def shop():
    return SystemFactory(name="Shop")


def ada(erp, shop, n: int = 1) -> GoldenRecord:
    """The ERP's record, then the shop's newer one with another email: most recent gives the shop's."""
    return golden_with_sources(
        (erp, f"E-{n}", {"first_name": "Ada", "last_name": f"Lovelace {n}", "email": f"ada{n}@erp.example"}),
        (shop, f"S-{n}", {"first_name": "Ada", "last_name": f"Lovelace {n}", "email": f"ada{n}@shop.example"}),
    )


def updates_of(golden, since: int = 0):
    """The UPDATE audit entries of ``golden`` after entry ``since``."""
    entries = LogEntry.objects.get_for_object(golden).filter(action=LogEntry.Action.UPDATE, pk__gt=since)
    return list(entries)


def last_entry() -> int:
    return LogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def apply_now(entity: str = "customer", user=None) -> RuleApplication:
    """Start an application and run its task here, as a worker would."""
    application, _ = start_apply(entity, user=user)
    tasks.apply_rules(application.pk)
    return RuleApplication.objects.get(pk=application.pk)


def test_a_changed_rule_is_applied_to_stored_records(erp, shop, personas):
    golden = ada(erp, shop)
    assert golden.values["email"] == "ada1@shop.example"
    set_rule("customer", "email", Strategy.MOST_TRUSTED, [erp.pk])
    golden.refresh_from_db()
    assert golden.values["email"] == "ada1@shop.example"  # the rule alone changes nothing stored

    application = apply_now(user=personas["steward"])

    golden.refresh_from_db()
    erp_source = golden.source_records.get(system=erp)
    assert golden.values["email"] == "ada1@erp.example" and golden.lineage["email"] == erp_source.pk
    assert (application.status, application.total, application.examined, application.changed) == ("done", 1, 1, 1)
    assert application.finished is not None


def test_changed_records_are_audited_in_the_stewards_name_and_reindexed(erp, shop, personas):
    golden = ada(erp, shop)
    set_rule("customer", "email", Strategy.MOST_TRUSTED, [erp.pk])
    before = last_entry()
    apply_now(user=personas["steward"])

    golden.refresh_from_db()
    [entry] = updates_of(golden, before)
    assert entry.actor == personas["steward"]
    assert entry.changes_dict["values"][0] != entry.changes_dict["values"][1]
    keys = set(BlockingKey.objects.filter(golden=golden).values_list("key", flat=True))
    assert keys == blocking_keys("customer", golden.values)
    assert "e:ada1@erp.example" in keys and "e:ada1@shop.example" not in keys


def test_records_the_rules_do_not_change_are_not_written(erp, shop, personas):
    changing, same = (
        ada(erp, shop, 1),
        golden_with_sources((shop, "S-9", {"first_name": "Bo", "email": "bo@x.example"})),
    )
    updated_before = GoldenRecord.objects.get(pk=same.pk).updated
    set_rule("customer", "email", Strategy.MOST_TRUSTED, [erp.pk])
    before = last_entry()

    application = apply_now(user=personas["steward"])

    assert (application.examined, application.changed) == (2, 1)
    assert GoldenRecord.objects.get(pk=same.pk).updated == updated_before
    assert updates_of(same, before) == [] and len(updates_of(changing, before)) == 1


def test_values_a_steward_pinned_at_a_merge_stay(erp, shop):
    golden = ada(erp, shop)
    golden.pinned = {"email": "chosen@example.com"}
    golden.values = {**golden.values, "email": "chosen@example.com"}
    golden.lineage = {**golden.lineage, "email": "steward"}
    golden.save()
    set_rule("customer", "email", Strategy.MOST_TRUSTED, [erp.pk])
    set_rule("customer", "last_name", Strategy.MOST_COMPLETE, [])

    application = apply_now()

    golden.refresh_from_db()
    assert golden.values["email"] == "chosen@example.com" and golden.lineage["email"] == "steward"
    assert application.changed == 0  # nothing else the rules decide differs here


def test_merged_away_records_and_other_entities_are_left_alone(erp, shop):
    survivor, absorbed = ada(erp, shop, 1), ada(erp, shop, 2)
    GoldenRecord.objects.filter(pk=absorbed.pk).update(merged_into=survivor)
    golden_with_sources((erp, "P-1", {"sku": "A-1", "name": "Widget"}), entity="product")
    set_rule("customer", "email", Strategy.MOST_TRUSTED, [erp.pk])

    application = apply_now()

    assert (application.total, application.examined, application.changed) == (1, 1, 1)
    assert GoldenRecord.objects.get(pk=absorbed.pk).values["email"] == "ada2@shop.example"


def test_one_application_per_entity_at_a_time(erp, shop, personas, django_capture_on_commit_callbacks):
    ada(erp, shop)
    with django_capture_on_commit_callbacks() as queued:
        first, created = start_apply("customer", user=personas["steward"])
    assert created and len(queued) == 1

    with pytest.raises(ValidationError) as refused:
        start_apply("customer", user=personas["admin"])
    assert "already being applied" in str(refused.value) and "steward" in str(refused.value)
    _, created = start_apply("product", user=personas["admin"])  # another entity may run beside it
    assert created and RuleApplication.objects.count() == 2

    tasks.apply_rules(first.pk)
    again, created = start_apply("customer", user=personas["admin"])
    assert created and again.pk != first.pk


def test_a_stalled_application_is_queued_again_instead_of_refused(erp, shop, django_capture_on_commit_callbacks):
    ada(erp, shop)
    application, _ = start_apply("customer", user=None)
    RuleApplication.objects.filter(pk=application.pk).update(created=timezone.now() - timedelta(hours=1))

    with django_capture_on_commit_callbacks() as queued:
        same, created = start_apply("customer", user=None)

    assert (same.pk, created, len(queued)) == (application.pk, False, 1)


def test_a_task_delivered_again_carries_on_after_the_last_committed_batch(erp, shop, monkeypatch):
    goldens = [ada(erp, shop, n) for n in range(1, 6)]
    set_rule("customer", "email", Strategy.MOST_TRUSTED, [erp.pk])
    monkeypatch.setattr(apply_rules, "BATCH", 2)
    application, _ = start_apply("customer", user=None)
    assert apply_rules.claim(application.pk)
    assert apply_rules.apply_batch(application.pk)  # the worker then dies: status stays running
    done = RuleApplication.objects.get(pk=application.pk)
    assert (done.status, done.examined, done.changed, done.position) == ("running", 2, 2, goldens[1].pk)

    tasks.apply_rules(application.pk)  # the message comes again

    done.refresh_from_db()
    assert (done.status, done.examined, done.changed) == ("done", 5, 5)
    assert all(g.values["email"].endswith("@erp.example") for g in GoldenRecord.objects.all())


def test_a_finished_application_is_not_run_again(erp, shop):
    ada(erp, shop)
    application = apply_now()
    set_rule("customer", "email", Strategy.MOST_TRUSTED, [erp.pk])

    tasks.apply_rules(application.pk)  # a duplicate message

    assert RuleApplication.objects.get(pk=application.pk).changed == 0
    assert GoldenRecord.objects.get().values["email"] == "ada1@shop.example"


def test_an_error_fails_the_application_with_the_reason(erp, shop, monkeypatch):
    ada(erp, shop)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(apply_rules, "recompute_all", broken)
    application, _ = start_apply("customer", user=None)
    with pytest.raises(RuntimeError):
        tasks.apply_rules(application.pk)

    failed = RuleApplication.objects.get(pk=application.pk)
    assert failed.status == JobStatus.FAILED and failed.error == "RuntimeError: disk full" and failed.finished


def test_the_command_applies_the_rules_in_the_foreground(erp, shop):
    from io import StringIO

    from django.core.management import call_command

    ada(erp, shop)
    set_rule("customer", "email", Strategy.MOST_TRUSTED, [erp.pk])
    out = StringIO()
    call_command("apply_survivorship", "customer", stdout=out)

    assert out.getvalue().strip() == "1 golden records examined, 1 changed."
    assert GoldenRecord.objects.get().values["email"] == "ada1@erp.example"
    assert RuleApplication.objects.get().status == JobStatus.DONE
