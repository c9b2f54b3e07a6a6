"""Reconciliation in a real browser: an integration engineer opens an SQL target that Junction
delivered two customers to (one since deleted at the target), clicks "Reconcile now", watches the
reconciliation's page wait for a worker and then, without reloading, show the deleted record, and
accepts the deletion (confirmed in a dialog); the connector's card and the list show the result too.
A viewer sees the card without the button.

Screenshots land in ``tests/artifacts/`` (git-ignored) for people to look at.
"""

import re

import pytest
from playwright.sync_api import expect

from integrations.choices import ReconciliationStatus
from integrations.engine import reconcile
from integrations.models import Delivery, Reconciliation
from integrations.tests.reconciliation_world import delete_at_target, sql_target
from tests.browser.conftest import login, screenshot

pytestmark = pytest.mark.browser


def test_engineer_reconciles_a_target_and_sees_the_deleted_record(
    page, live_server, personas, console_errors, tmp_path
):
    engineer = personas["engineer"]
    target = sql_target(tmp_path, "Warehouse DB", owner=engineer, keys=("C-1", "C-2"))
    delete_at_target(target, "C-2")  # someone at the warehouse deleted it behind Junction's back

    login(page, live_server, "engineer")
    page.goto(f"{live_server.url}{target.get_absolute_url()}")
    card = page.get_by_test_id("reconciliation-card")
    expect(card).to_contain_text("Not reconciled yet")
    customers = card.get_by_test_id("reconciliation-entity").filter(has_text="Customer")
    screenshot(page, "reconciliation-connector-before")

    customers.get_by_role("button", name=re.compile("^Reconcile now")).click()
    started = Reconciliation.objects.get(target=target)
    expect(page).to_have_url(f"{live_server.url}{started.get_absolute_url()}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Reconciliation #{started.pk} of Warehouse DB")
    result = page.get_by_test_id("reconciliation-result")
    expect(result.get_by_test_id("reconciliation-status")).to_have_text("Queued")
    expect(result.get_by_test_id("reconciliation-state")).to_have_text("waiting for a worker")
    expect(page.get_by_role("alert").filter(has_text="queued")).to_be_visible()
    screenshot(page, "reconciliation-queued")

    # No Celery worker runs in browser tests: do here what the worker's task would do with the queued row.
    page.evaluate("() => { window.stayedOnPage = true; }")
    assert started.status == ReconciliationStatus.QUEUED
    reconcile.perform(started.pk)

    # The page polls every 2 s and swaps in the result by itself.
    expect(result.get_by_test_id("reconciliation-status")).to_have_text("Done", timeout=8_000)
    expect(result.get_by_test_id("reconciliation-gone")).to_have_text("1 gone")
    rows = result.get_by_test_id("missing-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("C-2")
    expect(rows.first).to_contain_text("1:C-2")
    expect(result.get_by_test_id("count-delivered")).to_have_text("2")
    expect(result.get_by_test_id("count-present")).to_have_text("1")
    assert page.evaluate("() => window.stayedOnPage") is True
    screenshot(page, "reconciliation-done")

    # The warehouse's owners say C-2 stays deleted: accept it, after confirming in the dialog.
    result.get_by_test_id("accept-deletions").click()
    dialog = page.get_by_role("dialog", name="Accept these deletions?")
    expect(dialog).to_have_css("opacity", "1")  # faded in: the screenshot shows it, not the page behind
    expect(dialog).to_contain_text("Junction forgets it delivered this record to Warehouse DB")
    screenshot(page, "reconciliation-accept-confirm")
    dialog.get_by_role("button", name="Accept deletions").click()
    expect(page).to_have_url(f"{live_server.url}{started.get_absolute_url()}")
    expect(page.get_by_role("alert").filter(has_text="Junction forgot 1 record")).to_be_visible()
    accepted = page.get_by_test_id("reconciliation-accepted")
    expect(accepted).to_contain_text("Accepted by engineer")
    expect(page.get_by_test_id("accept-deletions")).to_have_count(0)
    expect(result.get_by_test_id("reconciliation-state")).to_have_text(
        "1 record Junction delivered is gone from the target; its deletion was accepted"
    )
    assert not Delivery.objects.filter(target=target, subject="1:C-2").exists()
    screenshot(page, "reconciliation-accepted")

    page.get_by_role("link", name="Warehouse DB").first.click()
    expect(customers.get_by_test_id("reconciliation-status")).to_have_text("Done")
    expect(customers.get_by_test_id("reconciliation-gone")).to_have_text("1 gone")
    expect(customers.get_by_test_id("reconciliation-gone-accepted")).to_have_text("accepted")
    screenshot(page, "reconciliation-connector-after")

    page.get_by_test_id("main-nav").get_by_role("button", name="Integrations").click()
    page.get_by_test_id("main-nav").get_by_role("link", name="Reconciliations").click()
    expect(page).to_have_url(f"{live_server.url}/integrations/reconciliations/")
    table = page.get_by_test_id("reconciliation-table")
    expect(table.get_by_role("row")).to_have_count(2)  # the header and the one reconciliation
    expect(table).to_contain_text("1 gone")
    expect(table).to_contain_text("engineer")
    screenshot(page, "reconciliation-list")

    assert console_errors == []


def test_viewer_sees_the_result_but_no_button(page, live_server, personas, console_errors, tmp_path):
    target = sql_target(tmp_path, "Warehouse DB", keys=("C-1",))
    reconcile.perform(reconcile.start(target, "customer", queue=False).pk)
    login(page, live_server, "viewer")
    page.goto(f"{live_server.url}{target.get_absolute_url()}")
    card = page.get_by_test_id("reconciliation-card")
    expect(card.get_by_test_id("reconciliation-gone")).to_have_text("none gone")
    expect(card.get_by_role("button")).to_have_count(0)
    screenshot(page, "reconciliation-connector-viewer")
    assert console_errors == []


def test_no_reconciliations_explains_what_they_are(page, live_server, personas, console_errors, settings):
    settings.JUNCTION_RECONCILE_HOURS = 24
    login(page, live_server, "engineer")
    page.goto(f"{live_server.url}/integrations/reconciliations/")
    expect(page.get_by_test_id("empty-state")).to_contain_text("once a day")
    screenshot(page, "reconciliation-list-empty")
    assert console_errors == []


def test_engineer_sends_a_deleted_record_again(page, live_server, personas, console_errors, tmp_path):
    """The other way to settle it: the warehouse's owners want Bob back."""
    from integrations import services
    from integrations.engine import pipeline
    from integrations.models import Run
    from integrations.tests.engine_world import (
        customer_flow,
        make_target_db,
        sql_connector,
        target_rows,
        webhook_connector,
    )
    from integrations.tests.test_engine import ADA, BOB, push, run_once

    path = make_target_db(tmp_path / "warehouse.sqlite3")
    target = sql_connector(path, name="Warehouse DB")
    services.grant_creator(target, personas["engineer"])
    push(source := webhook_connector(), ADA, BOB)
    flow = customer_flow(source, target)
    services.grant_creator(flow, personas["engineer"])
    run_once(flow)
    bob = Delivery.objects.get(target=target, payload__last_name="Stone")
    target.path = path
    delete_at_target(target, bob.remote_id)
    found = reconcile.perform(reconcile.start(target, "customer", queue=False).pk)

    login(page, live_server, "engineer")
    page.goto(f"{live_server.url}{found.get_absolute_url()}")
    result = page.get_by_test_id("reconciliation-result")
    expect(result.get_by_test_id("reconciliation-gone")).to_have_text("1 gone")
    screenshot(page, "reconciliation-resend-offered")
    result.get_by_test_id("resend-deleted").click()
    dialog = page.get_by_role("dialog", name="Send this record again?")
    expect(dialog).to_have_css("opacity", "1")
    expect(dialog).to_contain_text("exactly as it last sent it")
    screenshot(page, "reconciliation-resend-confirm")
    dialog.get_by_role("button", name="Send again").click()

    expect(page.get_by_role("alert").filter(has_text="1 record is on its way")).to_be_visible()
    expect(page.get_by_test_id("reconciliation-resent")).to_contain_text("Sent again by engineer")
    expect(page.get_by_test_id("resend-deleted")).to_have_count(0)
    expect(page.get_by_test_id("accept-deletions")).to_have_count(0)
    run = Run.objects.get(trigger="restore")
    expect(page.get_by_test_id("resend-run")).to_contain_text(f"Run #{run.pk}")
    screenshot(page, "reconciliation-resent")

    pipeline.load(run.pk, target.pk)  # what the worker's load task does (no worker in browser tests)
    page.get_by_test_id("resend-run").get_by_role("link").click()
    expect(page).to_have_url(f"{live_server.url}{run.get_absolute_url()}")
    expect(page.get_by_test_id("run-status").first).to_have_text("Succeeded")
    expect(page.get_by_test_id("run-reconciliation")).to_have_text(f"reconciliation #{found.pk}")
    screenshot(page, "reconciliation-resend-run")
    assert any(row[0] == bob.remote_id for row in target_rows(path))
    assert console_errors == []
