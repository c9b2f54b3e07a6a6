"""Alerts in a real browser: an integration engineer sees the count in the menu and on the
dashboard, opens the alerts page, opens a critical alert raised by a real condition (a
connector whose circuit breaker opened, then ``evaluate()``), acknowledges it without a
page load (htmx), and the count drops; then the same from a row of the list.

Screenshots land in ``tests/artifacts/`` (git-ignored) for people to look at.
"""

import re

import pytest
from playwright.sync_api import expect

from monitoring.alerts import evaluate
from monitoring.models import Alert
from monitoring.tests.factories import failing_flow, paused_connector
from tests.browser.conftest import DESKTOP, login, screenshot

pytestmark = pytest.mark.browser

CIRCUIT = "Deliveries to ERP REST are paused: its circuit breaker opened"


def alerts_entry(page):
    return page.get_by_test_id("main-nav").get_by_role("link", name=re.compile("Alerts"))


def test_engineer_acknowledges_a_critical_alert(page, live_server, personas, console_errors):
    engineer = personas["engineer"]
    connector = paused_connector("ERP REST", owner=engineer, error="503 Service Unavailable from erp.example.com")
    flow = failing_flow("Shop orders to ERP", owner=engineer, error="ERP refused the login: password expired")
    failing_flow("Payroll to bank")  # not granted to the engineer: never shown
    evaluate()
    assert Alert.objects.filter(resolved_at__isnull=True).count() == 3

    login(page, live_server, "engineer")
    expect(alerts_entry(page).get_by_test_id("menu-badge")).to_have_text("2")
    tile = page.get_by_test_id("alerts-tile")
    expect(tile.get_by_test_id("stat-alerts")).to_have_text("2")
    expect(tile.get_by_test_id("stat-alerts-critical")).to_contain_text("2 critical")
    screenshot(page, "alerts-dashboard-engineer")

    alerts_entry(page).click()
    expect(page).to_have_url(f"{live_server.url}/alerts/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")
    expect(alerts_entry(page)).to_have_attribute("aria-current", "page")
    rows = page.get_by_test_id("alert-row")
    expect(rows).to_have_count(2)
    expect(page.get_by_text("Payroll to bank")).to_have_count(0)
    row = rows.filter(has_text=CIRCUIT)
    expect(row.get_by_test_id("severity")).to_have_text("Critical")
    expect(row.get_by_test_id("alert-subject")).to_have_text("ERP REST")
    expect(row.get_by_test_id("alert-status")).to_have_text("Open")
    screenshot(page, "alerts-list")

    row.get_by_role("link", name=CIRCUIT).click()
    alert = Alert.objects.get(connector=connector)
    expect(page).to_have_url(f"{live_server.url}/alerts/{alert.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(CIRCUIT)
    expect(page.get_by_test_id("alert-detail")).to_contain_text("503 Service Unavailable from erp.example.com")
    expect(page.get_by_test_id("where-to-look").get_by_role("link", name=re.compile("ERP REST"))).to_be_visible()
    screenshot(page, "alert-detail-open")

    # htmx: the status card and the menu badge change; the page does not reload.
    page.evaluate("() => { window.stayedOnPage = true; }")
    page.get_by_test_id("acknowledge").click()
    state = page.get_by_test_id("alert-state")
    expect(state.get_by_test_id("acknowledged-by")).to_contain_text("Acknowledged by engineer")
    expect(state.get_by_test_id("alert-status")).to_have_text("Acknowledged")
    expect(state.get_by_test_id("timeline-acknowledged")).to_contain_text("by engineer")
    expect(alerts_entry(page).get_by_test_id("menu-badge")).to_have_text("1")
    assert page.evaluate("() => window.stayedOnPage") is True
    screenshot(page, "alert-detail-acknowledged")
    alert.refresh_from_db()
    assert alert.acknowledged_by == engineer

    # The other one, from its row in the list: the row changes in place, the badge goes away.
    alerts_entry(page).click()
    row = page.get_by_test_id("alert-row").filter(has_text=f"The last run of {flow} failed")
    row.get_by_test_id("acknowledge").click()
    expect(row.get_by_test_id("alert-status")).to_have_text("Acknowledged")
    expect(row.get_by_test_id("acknowledged")).to_contain_text("engineer")
    expect(alerts_entry(page).get_by_test_id("menu-badge")).to_be_hidden()
    screenshot(page, "alerts-list-acknowledged")

    assert console_errors == []


def test_viewer_sees_alerts_without_the_acknowledge_button(page, live_server, personas, console_errors):
    paused_connector("ERP REST")
    evaluate()
    login(page, live_server, "viewer")
    alerts_entry(page).click()
    page.get_by_role("link", name=CIRCUIT).click()
    expect(page.get_by_test_id("acknowledge-not-allowed")).to_be_visible()
    expect(page.get_by_test_id("acknowledge")).to_have_count(0)
    screenshot(page, "alert-detail-viewer")
    assert console_errors == []


def test_no_alerts_shows_a_calm_empty_state(page, live_server, personas, console_errors):
    login(page, live_server, "engineer")
    expect(alerts_entry(page).get_by_test_id("menu-badge")).to_have_count(0)
    expect(page.get_by_test_id("alerts-tile")).to_contain_text("Nothing needs a look")
    alerts_entry(page).click()
    expect(page.get_by_test_id("empty-state")).to_contain_text("No alerts: nothing needs a look right now")
    screenshot(page, "alerts-empty")
    assert console_errors == []


def test_the_longest_menu_with_both_counts_fits_a_laptop_screen(page, live_server, personas):
    """An Administrator's menu, with two-digit Alerts and Review queue counts, stays on one row and
    leaves the account menu on screen."""
    from masterdata.tests.factories import GoldenRecordFactory, candidate_for
    from monitoring.tests.factories import make_alert

    for n in range(12):
        make_alert(f"Run {n} failed")
        candidate_for(GoldenRecordFactory(), GoldenRecordFactory())
    page.set_viewport_size(DESKTOP)
    login(page, live_server, "admin")
    nav = page.get_by_test_id("main-nav")
    expect(nav.get_by_test_id("menu-badge")).to_have_text(["12", "12"])
    tops = {round(entry.bounding_box()["y"]) for entry in nav.locator(":scope > li > a").all()}
    account = page.get_by_test_id("whoami").bounding_box()
    screenshot(page, "laptop-menu-admin-with-counts")
    assert len(tops) == 1, f"menu entries wrap onto {len(tops)} rows"
    assert account["x"] + account["width"] <= DESKTOP["width"], "the account menu is pushed off the screen"
