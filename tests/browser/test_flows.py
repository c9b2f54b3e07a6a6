"""Connectors, flows, runs and the dead-letter queue in a real browser, without a worker:
an engineer adds a webhook connector (its fields swap in when the adapter is chosen),
tests it, builds a flow to an existing REST connector, edits the mapping with the live
preview, moves the flow to Test and starts a dry run; then works the dead-letter queue.

Screenshots land in ``tests/artifacts/`` (git-ignored) for people to look at.
"""

import re

import pytest
from playwright.sync_api import expect

from integrations import crypto
from integrations.choices import OutcomeStatus, Stage
from integrations.models import Connector, Flow, RecordOutcome, Run
from integrations.tests.factories import SystemFactory
from integrations.tests.pages import make_flow, make_outcomes, make_run, rest_connector
from tests.browser.conftest import login, screenshot

pytestmark = pytest.mark.browser

SECRET = "whsec_" + "YnJvd3Nlci10ZXN0LXNpZ25pbmcta2V5LTEyMzQ1Njc4"
MAPPING = """[
  {"target": "surname", "op": "copy", "from": "last_name"},
  {"target": "name", "op": "expression", "expression": "first_name + ' ' + last_name"},
  {"target": "email", "op": "copy", "from": "email"},
  {"target": "country", "op": "copy", "from": "country", "default": "DE"}
]"""
SAMPLE = '{"id": "C-42", "first_name": "ada", "last_name": "LOVELACE", "email": " Ada@Example.COM ", "country": "gb"}'


def menu(page, label):
    nav = page.get_by_test_id("main-nav")
    nav.get_by_role("button", name="Integrations").click()
    nav.get_by_role("link", name=label).click()


def test_engineer_builds_a_flow_from_a_webhook_to_rest_and_moves_it_to_test(
    page, live_server, personas, console_errors, monkeypatch
):
    # No worker here: the run's message is recorded instead of sent (the live server shares this process).
    queued = []
    monkeypatch.setattr("integrations.tasks.extract_run.delay", queued.append)
    engineer = personas["engineer"]
    SystemFactory(name="Web shop", kind="ecommerce")
    erp = rest_connector("ERP REST", owner=engineer)
    login(page, live_server, "engineer")

    # A webhook connector: choosing the adapter brings its own settings and credential fields.
    menu(page, "Connectors")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connectors")
    page.get_by_role("link", name="Add connector").first.click()
    page.locator("#id_name").fill("Shop orders in")
    page.get_by_label("System").select_option(label="Web shop")
    page.get_by_label("Adapter").select_option(label="Inbound webhook")
    fields = page.get_by_test_id("adapter-fields")
    expect(fields.locator("[data-adapter=webhook]")).to_be_visible()
    expect(page.get_by_label("Secret")).to_have_attribute("type", "password")
    page.get_by_label("Id field").fill("customer_no")
    page.get_by_label("Secret").fill("too-short")
    page.get_by_role("button", name="Save").click()
    # The adapter's schema judged the secret: the error sits next to the field.
    secret = page.get_by_label("Secret")
    expect(secret).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.get_by_text("Ensure this field has at least 24 characters.")).to_be_visible()
    expect(secret).to_have_value("")  # a secret is never sent back to the browser
    screenshot(page, "connector-add-webhook-error")
    secret.fill(SECRET)
    screenshot(page, "connector-add-webhook")
    page.get_by_role("button", name="Save").click()

    connector = Connector.objects.get(name="Shop orders in")
    expect(page).to_have_url(f"{live_server.url}{connector.get_absolute_url()}")
    expect(page.get_by_role("alert")).to_contain_text("Created connector “Shop orders in”")
    expect(page.get_by_test_id("credentials-state")).to_contain_text("Set on")
    assert crypto.decrypt(connector.credentials) == {"secret": SECRET}
    assert SECRET not in page.content()
    page.get_by_test_id("test-connection").click()
    checks = page.get_by_test_id("connection-checks")
    expect(checks.locator("li")).to_have_count(2)
    expect(page.get_by_test_id("connection-result")).to_contain_text("Every check passed")
    screenshot(page, "connector-detail-tested")
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Secret")).to_have_value("")
    expect(page.get_by_test_id("adapter-fields")).to_contain_text("Leave blank to keep the current value")
    expect(page.get_by_label("Id field")).to_have_value("customer_no")
    screenshot(page, "connector-edit")
    assert SECRET not in page.content()
    page.get_by_role("link", name="Cancel").click()

    menu(page, "Connectors")
    expect(page.get_by_role("link", name="Shop orders in")).to_be_visible()
    screenshot(page, "connectors-list")

    # A flow from the webhook to the existing REST connector.
    menu(page, "Flows")
    page.get_by_role("link", name="Add flow").first.click()
    page.locator("#id_name").fill("Shop customers to ERP")
    page.get_by_label("Entity").select_option(label="Customer")
    page.get_by_label("Source").select_option(label="Shop orders in")
    page.get_by_label("Targets").select_option(label="ERP REST")
    page.get_by_label("Trigger").select_option(label="Inbound push")
    page.locator("#id_mapping").fill("[]")
    screenshot(page, "flow-add")
    page.get_by_role("button", name="Save").click()
    flow = Flow.objects.get(name="Shop customers to ERP")
    expect(page).to_have_url(f"{live_server.url}{flow.get_absolute_url()}")
    expect(page.get_by_test_id("stage-badge").first).to_have_text("Draft")
    assert list(flow.targets.all()) == [erp]
    screenshot(page, "flow-detail-draft")

    # The mapping editor: the preview follows the rules as they are typed.
    page.get_by_role("link", name="Edit mapping").click()
    preview = page.get_by_test_id("preview-result")
    page.locator("#id_sample").fill(SAMPLE)
    page.locator("#id_mapping").fill(MAPPING)
    mapped = preview.get_by_test_id("preview-mapped")
    expect(mapped).to_contain_text("Ada Lovelace")  # the expression over the cleansed names
    expect(mapped).to_contain_text("ada@example.com")
    expect(preview.get_by_test_id("preview-changes")).to_be_visible()  # cleansing tidied e-mail and country
    screenshot(page, "flow-mapping-preview")
    page.locator("#id_mapping").fill('[{"target": "name", "op": "shout"}]')
    expect(preview.get_by_test_id("preview-rule-errors")).to_contain_text("Rule 1")
    screenshot(page, "flow-mapping-preview-error")
    page.locator("#id_mapping").fill(MAPPING)
    expect(mapped).to_contain_text("surname")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_role("alert")).to_contain_text("Saved the mapping")
    flow.refresh_from_db()
    assert [rule["target"] for rule in flow.mapping] == ["surname", "name", "email", "country"]

    # Rollout: Draft → Test, confirmed in a dialog; then a dry run.
    page.get_by_role("link", name="Back to the flow").click()
    page.get_by_test_id("promote-test").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Dry runs")
    screenshot(page, "flow-promote-dialog")
    dialog.get_by_role("button", name="Move to Test (dry run)").click()
    expect(page.get_by_role("alert")).to_contain_text("moved from Draft to Test (dry run)")
    expect(page.get_by_test_id("stage-badge").first).to_have_text("Test (dry run)")
    flow.refresh_from_db()
    assert flow.stage == Stage.TEST
    screenshot(page, "flow-detail-test")

    page.get_by_test_id("run-now").click()
    run = Run.objects.get(flow=flow)
    expect(page).to_have_url(f"{live_server.url}{run.get_absolute_url()}")
    expect(page.get_by_test_id("run-progress")).to_have_attribute("hx-trigger", "every 2s")
    expect(page.get_by_test_id("run-status").first).to_have_text("Queued")
    assert queued == [run.pk]  # queued for a worker once the request's transaction committed
    screenshot(page, "run-queued")
    menu(page, "Flows")
    expect(page.get_by_role("row", name=re.compile("Shop customers to ERP"))).to_contain_text("Queued")
    screenshot(page, "flows-list")
    assert console_errors == []


def test_run_page_and_dead_letter_queue(page, live_server, personas, console_errors, monkeypatch):
    delivering = []
    monkeypatch.setattr("integrations.tasks.deliver_run.delay", delivering.append)
    engineer = personas["engineer"]
    flow = make_flow("Orders to ERP", entity="sales_order", stage=Stage.LIVE, owner=engineer, mapping=[])
    run = make_run(flow, read=40, created=25, updated=6, unchanged=3, quarantined=2, dead_lettered=4)
    make_outcomes(run, 25, status=OutcomeStatus.DELIVERED, action="created", remote_id="ERP-1")
    make_outcomes(
        run,
        4,
        status=OutcomeStatus.DEAD,
        attempts=5,
        error_class="PeerUnavailableError",
        error_message="GET /orders answered 503 Service Unavailable",
    )
    make_outcomes(
        run,
        2,
        status=OutcomeStatus.QUARANTINED,
        target=None,
        error_class="InvalidRecord",
        error_message="Record 3 of event e-7 has no 'id'.",
    )
    dry = make_run(flow, stage=Stage.TEST, read=3, planned=2, unchanged=1)
    make_outcomes(
        dry,
        1,
        status=OutcomeStatus.PLANNED,
        action="updated",
        diff={"email": ["old@example.com", "ada@example.com"], "country": ["DE", "GB"]},
    )
    make_outcomes(dry, 1, status=OutcomeStatus.PLANNED, action="created", diff={"name": [None, "Bo Stone"]})
    make_outcomes(dry, 1, status=OutcomeStatus.PLANNED, action="unchanged", diff={})
    login(page, live_server, "engineer")

    menu(page, "Runs")
    expect(page.get_by_role("heading", level=1)).to_have_text("Runs")
    screenshot(page, "runs-list")
    page.goto(f"{live_server.url}{run.get_absolute_url()}")
    expect(page.get_by_test_id("count-created")).to_have_text("25")
    expect(page.get_by_test_id("run-progress")).not_to_have_attribute("hx-trigger", re.compile("."))
    screenshot(page, "run-detail")
    page.get_by_role("link", name="Dead-lettered", exact=True).click()
    expect(page.get_by_test_id("outcome-table").locator("tbody tr")).to_have_count(4)
    screenshot(page, "run-detail-dead-lettered-tab")
    page.goto(f"{live_server.url}{dry.get_absolute_url()}")
    expect(page.get_by_test_id("outcomes")).to_contain_text("Dry-run report")
    expect(page.get_by_test_id("outcome-table")).to_contain_text("old@example.com")
    screenshot(page, "run-detail-dry-run")

    page.goto(f"{live_server.url}{run.get_absolute_url()}?status=dead")
    page.get_by_test_id("outcome-table").get_by_role("link").first.click()
    expect(page.get_by_test_id("outcome-error")).to_contain_text("503 Service Unavailable")
    expect(page.get_by_test_id("payload")).to_contain_text('"id"')
    screenshot(page, "outcome-detail")

    menu(page, "Dead-letter queue")
    table = page.get_by_test_id("deadletter-table")
    expect(table.locator("tbody tr")).to_have_count(6)
    screenshot(page, "deadletters")
    boxes = table.locator("input[name=outcome]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    expect(page.get_by_test_id("replay-selected")).to_be_enabled()
    page.get_by_test_id("replay-selected").click()
    replay = Run.objects.get(trigger="replay")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(f"Replaying 2 records in run #{replay.pk}")
    assert delivering == [replay.pk]
    expect(table.locator("tbody tr")).to_have_count(4)
    screenshot(page, "deadletters-replayed")

    # One row's "Discard": the dialog asks why, and refuses to go on without a reason.
    table.get_by_test_id("discard-row").first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Discard this record?")
    dialog.get_by_role("button", name="Discard").click()
    expect(page.get_by_role("alert")).to_contain_text("the reason is required")
    table.get_by_test_id("discard-row").first.click()
    dialog.get_by_test_id("discard-reason").fill("Test order from the shop's staging system")
    screenshot(page, "deadletters-discard-dialog")
    dialog.get_by_role("button", name="Discard").click()
    expect(page.get_by_role("alert")).to_contain_text("Discarded 1 record")
    expect(table.locator("tbody tr")).to_have_count(3)
    discarded = RecordOutcome.objects.get(discard_reason="Test order from the shop's staging system")
    assert discarded.status == OutcomeStatus.DISCARDED
    assert console_errors == []
