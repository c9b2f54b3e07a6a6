"""Survivorship rules in a real browser, applied by a real worker: a steward makes the ERP the most
trusted source of customers' e-mail addresses, applies the rules to the stored golden records,
follows the progress until the result, and finds the golden record's e-mail changed.

Screenshots land in ``tests/artifacts/`` (git-ignored) for people to look at.
"""

import re

import pytest
from playwright.sync_api import expect

from integrations.choices import Stage
from integrations.models import Delivery
from integrations.tests.pages import make_flow, rest_connector
from masterdata.models import GoldenRecord, RuleApplication, SurvivorshipRule
from masterdata.tests.factories import SystemFactory, golden_with_sources
from tests.browser.conftest import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.worker]
EMAIL_MAPPING = [{"target": "email", "op": "copy", "from": "email"}]


def test_steward_sets_a_trusted_source_and_applies_it(page, live_server, personas, start_worker, console_errors):
    from config.celery import app

    app.control.purge()  # messages other tests left in this broker are not this journey's
    erp, shop = SystemFactory(name="Finance ERP"), SystemFactory(name="Web shop")
    SystemFactory(name="Helpdesk")
    golden = golden_with_sources(
        (erp, "E-1", {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@erp.example"}),
        (shop, "S-1", {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@shop.example"}),
    )
    # A reporting database holds Ada as delivered before (no sync worker here: its update waits).
    reporting = rest_connector("Reporting API")
    flow = make_flow("Customers to reporting", targets=[reporting], stage=Stage.LIVE, mapping=EMAIL_MAPPING)
    Delivery.objects.create(
        target=reporting,
        entity="customer",
        subject=f"golden:{golden.pk}",
        remote_id="R-7",
        last_key="k",
        payload={"email": "ada@shop.example"},
        flow=flow,
        external_id="S-1",
    )
    login(page, live_server, "steward")
    page.goto(f"{live_server.url}/masterdata/records/")
    page.get_by_role("link", name="Survivorship rules").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Survivorship rules")
    expect(page.get_by_test_id("origin-email")).to_have_text("built in")
    screenshot(page, "survivorship-rules")

    page.get_by_role("link", name="Change the rule for email").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rule for customer email")
    page.get_by_label("Most trusted source").check()
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_test_id("trusted-systems-error")).to_have_text("Name at least one system, most trusted first.")
    screenshot(page, "survivorship-rule-error")

    page.get_by_label("Trust rank of Finance ERP").select_option("1")
    page.get_by_label("Trust rank of Web shop").select_option("2")
    screenshot(page, "survivorship-rule-form")
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_role("alert").first).to_contain_text("Saved the rule for email.")
    expect(page.get_by_test_id("origin-email")).to_have_text("own rule")
    trusted = page.get_by_test_id("strategy-email").get_by_role("list", name="Trusted systems, most trusted first")
    expect(trusted.get_by_role("listitem")).to_have_text(["Finance ERP", "Web shop"])
    assert SurvivorshipRule.objects.get(field="email").trusted_systems == [erp.pk, shop.pk]

    # No worker yet: the application waits, and the page says so while it polls.
    page.get_by_role("button", name="Apply to the 1 golden record of customer").click()
    application = page.get_by_test_id("application")
    expect(application).to_have_attribute("data-status", "pending")
    expect(page.get_by_test_id("application-status")).to_contain_text("Waiting for a worker")
    screenshot(page, "survivorship-apply-waiting")

    worker = start_worker("default")
    expect(page.get_by_test_id("application-status")).to_have_text("Applied", timeout=60_000)
    expect(page.get_by_test_id("application-changed")).to_have_text("1")
    expect(page.get_by_test_id("application-examined")).to_have_text("1")
    expect(page.get_by_role("progressbar", name="Progress of applying the rules")).to_have_attribute(
        "aria-valuenow", "100"
    )
    expect(application).not_to_have_attribute("hx-trigger", re.compile("."))  # polling stopped
    screenshot(page, "survivorship-applied")
    assert RuleApplication.objects.get().status == "done", f"worker log: {worker.log_path}"

    page.goto(f"{live_server.url}{golden.get_absolute_url()}")
    expect(page.get_by_test_id("values").locator("tr[data-field='email']")).to_contain_text("ada@erp.example")
    expect(page.get_by_test_id("lineage-email")).to_contain_text("Finance ERP · E-1")
    expect(page.get_by_test_id("history")).to_contain_text("steward")
    expect(page.get_by_test_id("rule-changes").get_by_test_id("target-change")).to_contain_text(
        "Updated at Reporting API (R-7): waiting for a worker"
    )
    screenshot(page, "survivorship-golden-record")
    assert GoldenRecord.objects.get().values["email"] == "ada@erp.example"
    assert console_errors == []
