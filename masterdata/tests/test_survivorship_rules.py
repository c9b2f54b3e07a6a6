"""The Survivorship rules page: the rule in force for each field (own, entity default or built in),
changing one with field-level errors, who may do what, the audit trail, and applying the rules."""

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.urls import reverse

from integrations.tests.factories import SystemFactory
from masterdata.choices import JobStatus, Strategy
from masterdata.forms import INHERIT, SurvivorshipRuleForm
from masterdata.models import RuleApplication, SurvivorshipRule
from masterdata.services.rules import BUILT_IN, DEFAULT, OWN, rules_in_force, set_rule, validate_rule
from masterdata.tests.factories import golden_with_sources

pytestmark = pytest.mark.django_db


def rules_url(entity="customer"):
    return reverse("masterdata:survivorship_rules", args=[entity])


def rule_url(field="email", entity="customer"):
    return reverse("masterdata:survivorship_rule", args=[entity, field])


def apply_url(entity="customer"):
    return reverse("masterdata:ruleapplication_start", args=[entity])


def form(data, field="email", entity="customer", systems=None):
    systems = systems if systems is not None else list(SystemFactory.create_batch(2))
    return SurvivorshipRuleForm(data, entity=entity, field=field, systems=systems), systems


# --- What is in force -----------------------------------------------------------------------------


def test_each_field_shows_its_own_rule_or_the_entity_default():
    erp = SystemFactory(name="ERP")
    rows = {row.field: row for row in rules_in_force("customer")}
    assert rows[""].origin == BUILT_IN and rows["email"].origin == BUILT_IN
    assert rows["email"].strategy_label == "Most recent"

    set_rule("customer", "", Strategy.MOST_COMPLETE, [])
    set_rule("customer", "email", Strategy.MOST_TRUSTED, [erp.pk])
    rows = {row.field: row for row in rules_in_force("customer")}
    assert (rows[""].origin, rows[""].strategy_label) == (OWN, "Most complete")
    assert (rows["email"].origin, rows["email"].systems) == (OWN, [(erp.pk, "ERP")])
    assert (rows["city"].origin, rows["city"].strategy_label) == (DEFAULT, "Most complete")
    assert [row.field for row in rules_in_force("product")][:3] == ["", "sku", "name"]


# --- The form's checks, each on its field ---------------------------------------------------------


def test_most_trusted_orders_the_systems_by_their_number():
    a, b = SystemFactory.create_batch(2)
    bound, _ = form(
        {"strategy": "most_trusted", f"trusted_systems_{a.pk}": "2", f"trusted_systems_{b.pk}": "1"},
        systems=[a, b],
    )
    assert bound.is_valid(), bound.errors
    assert bound.cleaned_data["trusted_systems"] == [b.pk, a.pk]


def test_most_trusted_needs_a_system():
    bound, _ = form({"strategy": "most_trusted"})
    assert not bound.is_valid()
    assert bound.errors["trusted_systems"] == ["Name at least one system, most trusted first."]


def test_the_same_number_twice_is_an_error_on_the_systems():
    a, b = SystemFactory.create_batch(2)
    bound, _ = form(
        {"strategy": "most_trusted", f"trusted_systems_{a.pk}": "1", f"trusted_systems_{b.pk}": "1"}, systems=[a, b]
    )
    assert not bound.is_valid()
    assert bound.errors["trusted_systems"] == ["Two systems have the number 1: give each its own."]


def test_an_unknown_system_and_a_field_of_another_entity_are_refused():
    with pytest.raises(ValidationError) as refused:
        validate_rule("product", "email", "most_trusted", [999_999])
    errors = refused.value.message_dict
    assert errors["field"] == ["Product records have no field “email”."]
    assert errors["trusted_systems"] == ["No system has the id 999999."]


def test_other_strategies_keep_no_systems():
    system = SystemFactory()
    bound, _ = form({"strategy": "most_complete", f"trusted_systems_{system.pk}": "1"}, systems=[system])
    assert bound.is_valid() and bound.cleaned_data["trusted_systems"] == []


def test_only_a_field_may_go_back_to_the_default():
    assert INHERIT in dict(form({})[0].fields["strategy"].choices)
    assert INHERIT not in dict(form({}, field="")[0].fields["strategy"].choices)


# --- The pages ------------------------------------------------------------------------------------


def test_the_page_shows_each_field_labelled_by_where_its_rule_comes_from(client_for, personas):
    erp = SystemFactory(name="ERP")
    set_rule("customer", "email", Strategy.MOST_TRUSTED, [erp.pk])
    response = client_for(personas["steward"]).get(rules_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Most trusted source" in html and "ERP" in html and "own rule" in html and "built in" in html
    assert rule_url("email") in html and apply_url() in html


def test_a_steward_sets_most_trusted_with_an_order_and_it_is_audited(client_for, personas):
    erp, shop = SystemFactory(name="ERP"), SystemFactory(name="Shop")
    client = client_for(personas["steward"])
    assert client.get(rule_url("email")).status_code == 200
    response = client.post(
        rule_url("email"),
        {"strategy": "most_trusted", f"trusted_systems_{erp.pk}": "2", f"trusted_systems_{shop.pk}": "1"},
    )
    assert response.status_code == 302 and response["Location"] == rules_url()
    rule = SurvivorshipRule.objects.get(entity="customer", field="email")
    assert (rule.strategy, rule.trusted_systems) == ("most_trusted", [shop.pk, erp.pk])
    entry = LogEntry.objects.get_for_object(rule).get(action=LogEntry.Action.CREATE)
    assert entry.actor == personas["steward"]


def test_going_back_to_the_default_removes_the_fields_rule(client_for, personas):
    rule = set_rule("customer", "email", Strategy.MOST_COMPLETE, [])
    response = client_for(personas["steward"]).post(rule_url("email"), {"strategy": INHERIT})
    assert response.status_code == 302 and not SurvivorshipRule.objects.exists()
    assert LogEntry.objects.get_for_object(rule).filter(action=LogEntry.Action.DELETE).exists()


def test_the_entity_default_is_edited_under_its_own_name(client_for, personas):
    response = client_for(personas["steward"]).post(rule_url("default"), {"strategy": "most_complete"})
    assert response.status_code == 302
    assert SurvivorshipRule.objects.get(entity="customer", field="").strategy == "most_complete"


def test_the_form_shows_its_errors_on_the_fields(client_for, personas):
    SystemFactory(name="ERP")
    response = client_for(personas["steward"]).post(rule_url("email"), {"strategy": "most_trusted"})
    assert response.status_code == 200
    assert "Name at least one system, most trusted first." in response.content.decode()
    assert not SurvivorshipRule.objects.exists()


def test_unknown_entities_and_fields_are_not_found(client_for, personas):
    client = client_for(personas["steward"])
    assert client.get(rules_url("invoice")).status_code == 404
    assert client.get(rule_url("sku")).status_code == 404  # a product field, not a customer's
    assert client.post(apply_url("invoice")).status_code == 404


def test_who_may_see_change_and_apply(client_for, personas):
    golden_with_sources((SystemFactory(), "C-1", {"first_name": "Ada"}))
    for role in ("engineer", "auditor"):  # read only
        client = client_for(personas[role])
        response = client.get(rules_url())
        assert response.status_code == 200, role
        assert rule_url("email") not in response.content.decode() and apply_url() not in response.content.decode()
        assert client.get(rule_url("email")).status_code == 403, role
        assert client.post(rule_url("email"), {"strategy": "most_complete"}).status_code == 403, role
        assert client.post(apply_url()).status_code == 403, role
    for role in ("viewer", "nobody"):
        client = client_for(personas[role])
        assert client.get(rules_url()).status_code == 403, role
        assert client.post(rule_url("email"), {"strategy": "most_complete"}).status_code == 403, role
        assert client.post(apply_url()).status_code == 403, role
    assert not SurvivorshipRule.objects.exists() and not RuleApplication.objects.exists()


def test_applying_from_the_page_queues_it_and_shows_its_progress(
    client_for, personas, django_capture_on_commit_callbacks
):
    golden_with_sources((SystemFactory(), "C-1", {"first_name": "Ada"}))
    client = client_for(personas["steward"])
    assert "Apply to the 1 golden record of customer" in client.get(rules_url()).content.decode()

    with django_capture_on_commit_callbacks() as queued:
        response = client.post(apply_url(), follow=True)

    application = RuleApplication.objects.get()
    assert (application.entity, application.total, application.requested_by) == ("customer", 1, personas["steward"])
    assert len(queued) == 1
    html = response.content.decode()
    assert reverse("masterdata:ruleapplication_progress", args=[application.pk]) in html  # the page polls
    assert "Apply to the 1 golden record" not in html  # no second one while it waits

    again = client.post(apply_url(), follow=True)
    assert "already being applied" in again.content.decode() and RuleApplication.objects.count() == 1


def test_the_progress_poll_reloads_the_page_once_finished(client_for, personas):
    application = RuleApplication.objects.create(entity="customer", total=10, examined=4, status=JobStatus.RUNNING)
    client = client_for(personas["steward"])
    url = reverse("masterdata:ruleapplication_progress", args=[application.pk])
    poll = client.get(url, headers={"HX-Request": "true"})
    assert poll.status_code == 200 and 'aria-valuenow="40"' in poll.content.decode()

    RuleApplication.objects.filter(pk=application.pk).update(status=JobStatus.DONE, examined=10, changed=3)
    poll = client.get(url, headers={"HX-Request": "true"})
    assert poll["HX-Refresh"] == "true"
    page = client.get(rules_url()).content.decode()
    assert "Applied" in page and "hx-trigger" not in page
    assert client_for(personas["viewer"]).get(url).status_code == 404
