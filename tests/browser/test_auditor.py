"""An auditor in a real browser: filters the audit trail, opens an entry, exports the filtered CSV.

The download is captured and read: it holds the filtered rows only, a formula
planted in an object's name arrives defused, and the export is itself in the trail.
"""

import csv
import io
import re

import pytest
from auditlog.models import LogEntry
from playwright.sync_api import expect

from audit import chain
from audit.choices import AuditEvent
from audit.context import acting_as
from audit.verify import verify
from integrations.tests.factories import SystemFactory
from tests.browser.conftest import login, screenshot

pytestmark = pytest.mark.browser


def test_auditor_filters_the_trail_opens_an_entry_and_exports_csv(page, live_server, personas, console_errors):
    with acting_as(personas["engineer"], remote_addr="10.0.0.7"):
        SystemFactory(name="Tryton ERP")
        SystemFactory(name="=cmd|' /C calc'!A0")  # what a formula-injection attempt looks like
    with acting_as(personas["steward"], remote_addr="10.0.0.8"):
        SystemFactory(name="Steward's CRM")
    chain.seal_pending()
    verify()

    login(page, live_server, "auditor")
    page.goto(f"{live_server.url}/audit/")
    expect(page.get_by_test_id("chain-status")).to_contain_text("Hash chain intact")
    page.get_by_label("Actor").fill("engineer")
    page.get_by_label("Object type").select_option(label="Integrations | system")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("result-count")).to_contain_text("2 entries match your filters")
    table = page.locator("main table")
    expect(table).to_contain_text("Tryton ERP")
    expect(table).not_to_contain_text("Steward's CRM")
    screenshot(page, "audit-trail-filtered")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert re.fullmatch(r"audit-trail-\d{8}-\d{6}\.csv", download.suggested_filename)
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))  # noqa: SIM115
    assert sorted(r["object_repr"] for r in rows) == ["'=cmd|' /C calc'!A0", "Tryton ERP"]
    assert {r["actor"] for r in rows} == {"engineer"} and {r["remote_addr"] for r in rows} == {"10.0.0.7"}

    exported = LogEntry.objects.get(additional_data__event=AuditEvent.EXPORTED)
    assert exported.actor == personas["auditor"] and exported.additional_data["rows"] == 2
    assert exported.additional_data["filters"]["actor"] == "engineer"

    page.get_by_role("link", name="Tryton ERP").click()
    expect(page.get_by_test_id("changes")).to_contain_text("Tryton ERP")
    expect(page.get_by_test_id("entry-metadata")).to_contain_text("10.0.0.7")
    screenshot(page, "audit-entry")
    assert console_errors == []
