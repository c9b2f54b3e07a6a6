"""Flow pages per role: create with grants, rules validated per position, the mapping
editor and its preview, stage moves and "Run now", each audited."""

import json

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from accounts.roles import Role
from accounts.tests.factories import UserFactory
from integrations.choices import Stage
from integrations.models import Flow, Run
from integrations.tests.pages import make_flow, make_run, rest_connector, webhook_connector

pytestmark = pytest.mark.django_db

LIST = reverse("integrations:flow_list")
ADD = reverse("integrations:flow_add")


def url(name, flow):
    return reverse(f"integrations:flow_{name}", args=[flow.pk])


def flow_form(source, target, **extra):
    return {
        "name": "Shop customers",
        "entity": "customer",
        "source": source.pk,
        "targets": [target.pk],
        "trigger": "push",
        "mapping": '[{"target": "name", "op": "copy", "from": "last_name"}]',
        "filters": "[]",
        "pilot_filter": "",
        "batch_size": "200",
        "max_attempts": "5",
        "retry_base_seconds": "30",
        **extra,
    }


def test_engineer_creates_a_flow_from_own_connectors_and_is_granted_it(client_for, personas):
    engineer = personas["engineer"]
    source, target = webhook_connector(owner=engineer), rest_connector(owner=engineer)
    client = client_for(engineer)
    response = client.post(ADD, flow_form(source, target))
    flow = Flow.objects.get(name="Shop customers")
    assert response.status_code == 302 and response["Location"] == flow.get_absolute_url()
    assert (flow.stage, list(flow.targets.all()), flow.pilot_filter) == (Stage.DRAFT, [target], [])
    assert engineer.has_perm("integrations.change_flow", flow)
    assert client.get(flow.get_absolute_url()).status_code == 200
    other = UserFactory(username="engineer2", role=Role.INTEGRATION_ENGINEER)
    client.force_login(other)
    assert client.get(flow.get_absolute_url()).status_code == 404
    assert client.post(url("run", flow)).status_code == 404


def test_the_form_offers_only_connectors_the_person_may_view(client_for, personas):
    mine, theirs = rest_connector("Mine", owner=personas["engineer"]), rest_connector("Theirs")
    form = client_for(personas["engineer"]).get(ADD).context["form"]
    assert list(form.fields["source"].queryset) == [mine]
    response = client_for(personas["engineer"]).post(ADD, flow_form(mine, theirs))
    assert "targets" in response.context["form"].errors


def test_bad_mapping_rules_get_errors_per_rule_position(client_for, personas):
    source, target = webhook_connector(owner=personas["engineer"]), rest_connector(owner=personas["engineer"])
    mapping = '[{"target": "name", "op": "copy", "from": "x"}, {"target": "n", "op": "shout"}, {"op": "constant"}]'
    data = flow_form(source, target, mapping=mapping, filters='[{"field": "country", "op": "in", "value": "DE"}]')
    response = client_for(personas["engineer"]).post(ADD, data)
    errors = response.context["form"].errors
    assert response.status_code == 200 and not Flow.objects.exists()
    assert any(e.startswith("Rule 2 → op:") and "shout" in e for e in errors["mapping"])
    assert any(e.startswith("Rule 3 → target:") for e in errors["mapping"])
    assert errors["filters"] == ["Filter 1 → value: Must be a list."]
    assert b"Rule 2" in response.content


def test_form_checks_route_and_schedule(client_for, personas):
    source, target = webhook_connector(owner=personas["engineer"]), rest_connector(owner=personas["engineer"])
    data = flow_form(source, source, trigger="schedule", mapping="not json")
    errors = client_for(personas["engineer"]).post(ADD, data).context["form"].errors
    assert "Select a valid choice" in errors["targets"][0]  # a webhook is never offered as a target
    assert errors["trigger"] == ["A webhook source pushes its records: use the inbound push trigger."]
    assert errors["mapping"] == ["Enter a valid JSON."]
    data = flow_form(target, rest_connector("Other", owner=personas["engineer"]), trigger="schedule")
    errors = client_for(personas["engineer"]).post(ADD, data).context["form"].errors
    assert errors["schedule_minutes"] == ["Say how often the flow runs."]  # the model's own rule
    data = flow_form(target, rest_connector("Third", owner=personas["engineer"]), trigger="push")
    errors = client_for(personas["engineer"]).post(ADD, data).context["form"].errors
    assert "webhook" in errors["trigger"][0]


def test_viewer_and_auditor_read_but_change_nothing(client_for, personas):
    flow = make_flow(stage=Stage.TEST)
    for role in ("viewer", "auditor"):
        client = client_for(personas[role])
        page = client.get(flow.get_absolute_url())
        assert page.status_code == 200 and b"run-now" not in page.content and b"promote-" not in page.content
        assert client.get(url("edit", flow)).status_code == 404
        assert client.get(url("mapping", flow)).status_code == 404
        assert client.post(url("run", flow)).status_code == 404
        assert client.post(url("promote", flow), {"stage": "pilot"}).status_code == 404
        assert client.post(url("preview", flow), {"sample": "{}"}).status_code == 404
    assert not Run.objects.exists()
    assert client_for(personas["nobody"]).get(flow.get_absolute_url()).status_code == 404


def test_detail_shows_overview_rules_stage_buttons_and_recent_runs(client_for, personas):
    flow = make_flow(stage=Stage.TEST, owner=personas["engineer"])
    make_run(flow, read=12, planned=3)
    html = client_for(personas["engineer"]).get(flow.get_absolute_url()).content.decode()
    assert "flow-overview" in html and 'data-testid="rules"' in html and "last_name" in html
    for stage in ("draft", "pilot", "live"):
        assert f'data-testid="promote-{stage}"' in html
    assert 'data-testid="promote-paused"' not in html
    assert "Dry run now" in html and "12 read" in html and "3 planned" in html


def test_recent_runs_count_what_was_left_alone_too(client_for, personas):
    flow = make_flow(stage=Stage.LIVE, owner=personas["engineer"])
    make_run(flow, stage=Stage.LIVE, read=10, created=2, unchanged=7, filtered=1)
    html = client_for(personas["engineer"]).get(flow.get_absolute_url()).content.decode()
    assert "10 read" in html and "2 created" in html and "7 unchanged" in html and "1 filtered out" in html


def test_promote_follows_the_transitions_and_is_audited(client_for, personas):
    flow = make_flow(owner=personas["engineer"])
    client = client_for(personas["engineer"])
    assert client.post(url("promote", flow), {"stage": "live"}, follow=True).status_code == 200
    flow.refresh_from_db()
    assert flow.stage == Stage.DRAFT  # draft → live is not allowed
    response = client.post(url("promote", flow), {"stage": "test"}, follow=True)
    flow.refresh_from_db()
    assert flow.stage == Stage.TEST and "moved from Draft to Test" in response.content.decode()
    entries = LogEntry.objects.get_for_object(flow).filter(action=LogEntry.Action.UPDATE, changes__has_key="stage")
    promote = entries.get()  # one entry for the move, not auditlog's own as well
    assert promote.changes == {"stage": ["draft", "test"]}
    assert promote.additional_data == {"action": "promote"} and promote.actor == personas["engineer"]
    response = client.post(url("promote", flow), {"stage": "pilot"}, follow=True)
    assert "pilot filter first" in response.content.decode()
    flow.refresh_from_db()
    assert flow.stage == Stage.TEST


def test_run_now_creates_a_run_and_an_audit_entry(client_for, personas):
    flow = make_flow(stage=Stage.TEST, owner=personas["engineer"])
    response = client_for(personas["engineer"]).post(url("run", flow))
    run = Run.objects.get()
    assert response.status_code == 302 and response["Location"] == run.get_absolute_url()
    assert (run.flow, run.stage, run.trigger, run.requested_by) == (flow, "test", "manual", personas["engineer"])
    entry = LogEntry.objects.get_for_object(flow).get(action=LogEntry.Action.ACCESS)
    assert entry.additional_data == {"action": "run", "run": run.pk, "stage": "test", "via": "page"}
    assert entry.actor == personas["engineer"]


def test_run_now_on_a_draft_says_why_not(client_for, personas):
    flow = make_flow(owner=personas["engineer"])
    response = client_for(personas["engineer"]).post(url("run", flow), follow=True)
    assert "move it to test, pilot or live first" in response.content.decode()
    assert not Run.objects.exists()


def test_mapping_editor_saves_valid_rules_and_lists_errors_per_rule(client_for, personas):
    flow = make_flow(owner=personas["engineer"])
    client = client_for(personas["engineer"])
    page = client.get(url("mapping", flow))
    assert page.status_code == 200 and b"preview-result" in page.content
    bad = {"mapping": '[{"target": "a", "op": "unit", "from": "w", "from_unit": "kg", "to_unit": "parsec"}]'}
    response = client.post(url("mapping", flow), {**bad, "filters": "[]", "pilot_filter": "[]"})
    assert response.status_code == 200
    assert response.context["form"].errors["mapping"][0].startswith("Rule 1 → to_unit:")
    good = '[{"target": "surname", "op": "copy", "from": "last_name"}]'
    pilot = '[{"field": "country", "op": "eq", "value": "DE"}]'
    response = client.post(url("mapping", flow), {"mapping": good, "filters": "", "pilot_filter": pilot})
    assert response.status_code == 302
    flow.refresh_from_db()
    assert flow.mapping == [{"target": "surname", "op": "copy", "from": "last_name"}]
    assert flow.pilot_filter == [{"field": "country", "op": "eq", "value": "DE"}] and flow.filters == []


def test_preview_uses_the_rules_being_edited(client_for, personas):
    flow = make_flow(owner=personas["engineer"])
    client = client_for(personas["engineer"])
    sample = '{"id": "C-9", "first_name": "  ada ", "last_name": "LOVELACE", "email": "ADA@Example.com"}'
    rules = '[{"target": "who", "op": "expression", "expression": "first_name + \' \' + last_name"}]'
    html = client.post(url("preview", flow), {"sample": sample, "mapping": rules, "filters": "[]"}).content.decode()
    assert 'data-testid="preview-mapped"' in html and "who" in html
    assert "preview-changes" in html  # cleansing tidied the name and e-mail
    flow.refresh_from_db()
    assert flow.mapping[0]["target"] == "name"  # nothing saved


def test_preview_reports_bad_input_and_mapping_errors(client_for, personas):
    flow = make_flow(owner=personas["engineer"])
    client = client_for(personas["engineer"])
    html = client.post(url("preview", flow), {"sample": "[1, 2]"}).content.decode()
    assert "preview-input-error" in html and "one JSON object" in html
    html = client.post(url("preview", flow), {"sample": "{}", "mapping": '[{"op": "copy"}]'}).content.decode()
    assert "preview-rule-errors" in html and "Rule 1" in html
    rules = '[{"target": "s", "op": "lookup", "from": "last_name", "table": {"A": "x"}}]'
    sample = '{"id": "1", "last_name": "Zed", "email": "z@example.com"}'
    html = client.post(url("preview", flow), {"sample": sample, "mapping": rules}).content.decode()
    assert "preview-mapping-error" in html and "not in the lookup table" in html


def test_preview_names_the_target_fields_a_sample_leaves_out(client_for, personas):
    flow = make_flow(owner=personas["engineer"], entity="sales_order")
    client = client_for(personas["engineer"])
    rules = json.dumps(
        [
            {"target": "number", "op": "copy", "from": "id"},
            {"target": "email", "op": "copy", "from": "email"},
            {"target": "country", "op": "copy", "from": "country"},
        ]
    )
    html = client.post(url("preview", flow), {"sample": '{"id": "O-1"}', "mapping": rules}).content.decode()
    assert 'data-testid="preview-unmapped"' in html
    assert "No value for <code>email</code>, <code>country</code> in this record, so they are left out" in html
    full = '{"id": "O-1", "email": "a@example.com", "country": "DE"}'
    html = client.post(url("preview", flow), {"sample": full, "mapping": rules}).content.decode()
    assert "preview-unmapped" not in html
    with_default = rules.replace('"from": "country"}', '"from": "country", "default": "DE"}')
    html = client.post(url("preview", flow), {"sample": '{"id": "O-1"}', "mapping": with_default}).content.decode()
    assert "No value for <code>email</code> in this record, so it is left out" in html


def test_flow_with_runs_is_kept_when_deleted(client_for, personas):
    flow = make_flow()
    make_run(flow)
    response = client_for(personas["admin"]).post(url("delete", flow), follow=True)
    assert Flow.objects.filter(pk=flow.pk).exists() and "pause it instead" in response.content.decode()


def test_list_shows_route_stage_and_last_run_in_bounded_queries(client_for, personas, django_assert_max_num_queries):
    for n in range(12):
        flow = make_flow(f"Flow {n}", stage=Stage.LIVE)
        make_run(flow, read=5, created=4, quarantined=1)
        make_run(flow, read=7, created=7, status="succeeded")
    client = client_for(personas["viewer"])
    with django_assert_max_num_queries(14):
        response = client.get(LIST)
    html = response.content.decode()
    assert "Flow 3 source" in html and "Flow 3 target" in html and "7 created" in html and "Live" in html
