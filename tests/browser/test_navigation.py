"""The portal in a real browser: sign-in and sign-out, the menu each role sees,
adding a system through the form, tablet width, and pages free of console errors.

Screenshots land in ``tests/artifacts/`` (git-ignored) for people to look at.
"""

import re

import pytest
from playwright.sync_api import expect

from config.navigation import menu_labels as expected_labels
from integrations.models import System
from integrations.tests.factories import SystemFactory
from tests.browser.conftest import DESKTOP, TABLET, login, screenshot

pytestmark = pytest.mark.browser

ROLES = ["admin", "engineer", "steward", "auditor", "viewer", "nobody"]

# Facts about the menu stated independently of ``config.navigation``, so a
# mistake there cannot make the menu test agree with itself.
INTEGRATIONS = {"Integrations", "Systems", "Connectors", "Flows", "Runs", "Dead-letter queue", "Reconciliations"}
MUST_SEE = {
    "admin": {"Dashboard", "Alerts", *INTEGRATIONS, "Master data", "Review queue", "Audit trail", "API", "Admin"},
    "engineer": {"Dashboard", "Alerts", *INTEGRATIONS, "Master data", "Review queue", "API"},
    "steward": {"Dashboard", "Integrations", "Systems", "Master data", "Review queue", "API"},
    "auditor": {"Dashboard", "Alerts", *INTEGRATIONS, "Master data", "Review queue", "Audit trail", "API"},
    "viewer": {
        "Dashboard",
        "Alerts",
        "Integrations",
        "Systems",
        "Connectors",
        "Flows",
        "Runs",
        "Reconciliations",
        "Master data",
        "API",
    },
    "nobody": {"Dashboard", "API"},
}
MUST_NOT_SEE = {
    "admin": set(),
    "engineer": {"Audit trail", "Admin"},
    "steward": {
        "Alerts",
        "Connectors",
        "Flows",
        "Runs",
        "Dead-letter queue",
        "Reconciliations",
        "Audit trail",
        "Admin",
    },
    "auditor": {"Admin"},
    "viewer": {"Dead-letter queue", "Review queue", "Audit trail", "Admin"},
    "nobody": INTEGRATIONS | {"Alerts", "Master data", "Review queue", "Audit trail", "Admin"},
}


def clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def shown_menu(page) -> list[str]:
    """Every label in the main menu as a person finds it: each section opened in turn, its entries after it."""
    labels = []
    nav = page.get_by_test_id("main-nav")
    for entry in nav.locator(":scope > li > a").all():
        labels.append(clean(entry.inner_text()))
        if entry.get_attribute("data-bs-toggle") == "dropdown":
            entry.click()
            menu = entry.locator("xpath=following-sibling::ul")
            expect(menu).to_be_visible()
            labels += [clean(text) for text in menu.get_by_role("link").all_inner_texts()]
            entry.click()  # close it again
            expect(menu).to_be_hidden()
    return labels


def open_section(page, name="Integrations"):
    page.get_by_test_id("main-nav").get_by_role("button", name=name).click()


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_exactly_its_menu(page, live_server, personas, role):
    login(page, live_server, role)
    expect(page).to_have_url(f"{live_server.url}/")
    screenshot(page, f"dashboard-{role}")
    shown = shown_menu(page)

    assert shown == expected_labels(personas[role])
    assert MUST_SEE[role] <= set(shown)
    assert not MUST_NOT_SEE[role] & set(shown)


def test_menu_links_lead_to_their_pages(page, live_server, personas):
    SystemFactory(name="Tryton ERP")
    login(page, live_server, "admin")
    nav = page.get_by_test_id("main-nav")
    for section, label, path, heading in [
        ("Integrations", "Systems", "/integrations/systems/", "Systems"),
        ("Integrations", "Connectors", "/integrations/connectors/", "Connectors"),
        ("Integrations", "Flows", "/integrations/flows/", "Flows"),
        ("Integrations", "Runs", "/integrations/runs/", "Runs"),
        ("Integrations", "Dead-letter queue", "/integrations/dead-letters/", "Dead-letter queue"),
        ("Integrations", "Reconciliations", "/integrations/reconciliations/", "Reconciliations"),
        (None, "Audit trail", "/audit/", "Audit trail"),
        (None, "Dashboard", "/", "Dashboard"),
    ]:
        if section:
            open_section(page, section)
        nav.get_by_role("link", name=label).click()
        expect(page).to_have_url(f"{live_server.url}{path}")
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        if section:
            expect(nav.get_by_role("button", name=section)).to_have_class(re.compile(r"\bactive\b"))
            open_section(page, section)
        expect(nav.get_by_role("link", name=label)).to_have_attribute("aria-current", "page")
        page.keyboard.press("Escape")


@pytest.mark.parametrize("width", [1280, 1440])  # icons hidden below 1400 px, shown above
def test_master_data_is_the_current_entry_on_the_survivorship_rules(page, live_server, personas, width):
    from masterdata.tests.factories import GoldenRecordFactory, candidate_for

    candidate_for(GoldenRecordFactory(), GoldenRecordFactory())  # the Review queue's count widens the menu
    page.set_viewport_size({**DESKTOP, "width": width})
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/masterdata/survivorship/customer/")
    nav = page.get_by_test_id("main-nav")
    expect(nav.get_by_role("link", name="Master data")).to_have_attribute("aria-current", "page")
    expect(nav.locator("[aria-current=page], .active")).to_have_count(1)
    tops = {round(entry.bounding_box()["y"]) for entry in nav.locator(":scope > li > a").all()}
    screenshot(page, f"survivorship-menu-{width}")
    assert len(tops) == 1, f"menu entries wrap onto {len(tops)} rows at {width} px"


def test_wrong_password_shows_an_error_on_the_login_page(page, live_server, personas):
    login(page, live_server, "engineer", password="not-the-password")
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username and password")
    expect(page.get_by_test_id("main-nav")).to_have_count(0)
    screenshot(page, "login-wrong-password")


def test_logout_returns_to_the_login_page(page, live_server, personas):
    login(page, live_server, "viewer")
    expect(page.get_by_test_id("whoami")).to_contain_text("viewer")

    page.get_by_test_id("whoami").click()  # the account menu holds the role, password change and log out
    expect(page.get_by_test_id("account-menu").get_by_test_id("role")).to_have_text("Viewer")
    page.get_by_role("button", name="Log out").click()

    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.goto(f"{live_server.url}/")  # the session is gone: back to the form
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))


def test_engineer_adds_a_system_through_the_form(page, live_server, personas):
    login(page, live_server, "engineer")
    open_section(page)
    page.get_by_test_id("main-nav").get_by_role("link", name="Systems").click()
    page.get_by_role("link", name="Add system").first.click()
    expect(page).to_have_url(f"{live_server.url}/integrations/systems/add/")

    page.get_by_label("Name").fill("Tryton ERP")
    page.get_by_label("Kind").select_option(label="ERP")
    page.get_by_label("Environment").select_option(label="Production")
    page.get_by_label("Notes").fill("The books of record.")
    screenshot(page, "system-add-filled")
    page.get_by_role("button", name="Save").click()

    system = System.objects.get(name="Tryton ERP")
    expect(page).to_have_url(f"{live_server.url}{system.get_absolute_url()}")
    expect(page.get_by_role("alert")).to_contain_text("Created system “Tryton ERP”")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tryton ERP")
    assert (system.kind, system.environment, system.notes) == ("erp", "production", "The books of record.")
    screenshot(page, "system-detail")


def test_missing_required_field_is_reported_next_to_the_field(page, live_server, personas):
    login(page, live_server, "engineer")
    page.goto(f"{live_server.url}/integrations/systems/add/")

    page.get_by_label("Kind").select_option(label="CRM")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved")
    name = page.get_by_label("Name")
    expect(name).to_have_class(re.compile(r"\bis-invalid\b"))
    error_id = name.get_attribute("aria-describedby") or ""
    assert error_id, "the name field should point at its error message"
    error = page.locator(f"[id='{error_id.split()[0]}']")
    expect(error).to_be_visible()
    expect(error).to_have_text("This field is required.")
    expect(page.get_by_label("Kind")).not_to_have_class(re.compile(r"\bis-invalid\b"))
    assert not System.objects.exists()
    screenshot(page, "system-add-missing-name")


def test_engineer_deletes_a_system_after_confirming(page, live_server, personas):
    system = SystemFactory(name="Old FTP drop")
    login(page, live_server, "engineer")
    page.goto(f"{live_server.url}{system.get_absolute_url()}")

    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete system “Old FTP drop”?")
    screenshot(page, "system-delete-confirm")
    page.get_by_role("button", name="Delete").click()

    expect(page).to_have_url(f"{live_server.url}/integrations/systems/")
    expect(page.get_by_role("alert")).to_contain_text("Deleted system “Old FTP drop”")
    assert not System.objects.filter(pk=system.pk).exists()


def test_the_full_menu_fits_one_row_on_a_laptop(page, live_server, personas):
    page.set_viewport_size(DESKTOP)
    login(page, live_server, "admin")  # the role with the most entries
    nav = page.get_by_test_id("main-nav")
    tops = {round(entry.bounding_box()["y"]) for entry in nav.locator(":scope > li > a").all()}
    account = page.get_by_test_id("whoami").bounding_box()
    screenshot(page, "laptop-menu-admin")

    assert len(tops) == 1, f"menu entries wrap onto {len(tops)} rows"
    assert abs(account["y"] - next(iter(tops))) < 10  # the account menu sits on the same row


def test_tablet_width_collapses_the_menu_behind_the_toggler(page, live_server, personas):
    page.set_viewport_size(TABLET)
    login(page, live_server, "engineer")
    toggler = page.get_by_role("button", name="Toggle navigation")
    section = page.get_by_test_id("main-nav").get_by_role("button", name="Integrations")
    systems_link = page.get_by_test_id("main-nav").get_by_role("link", name="Systems")

    expect(toggler).to_be_visible()
    expect(section).to_be_hidden()
    screenshot(page, "tablet-menu-closed")

    toggler.click()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    # "show" is set once the opening animation has finished and the menu has its full height.
    expect(page.locator("#main-nav")).to_have_class(re.compile(r"\bshow\b"))
    expect(section).to_be_in_viewport()
    section.click()
    expect(systems_link).to_be_in_viewport()
    screenshot(page, "tablet-menu-open")

    systems_link.click()
    expect(page).to_have_url(f"{live_server.url}/integrations/systems/")
    screenshot(page, "tablet-systems")


def test_pages_run_without_console_errors(page, live_server, personas, console_errors):
    SystemFactory(name="Tryton ERP", kind="erp", environment="production", owner=personas["engineer"])
    SystemFactory(name="Web shop", kind="ecommerce")
    page.goto(f"{live_server.url}/login/")
    screenshot(page, "login")
    login(page, live_server, "admin")
    page.wait_for_load_state("load")
    screenshot(page, "dashboard-with-systems")
    page.goto(f"{live_server.url}/integrations/systems/")
    page.wait_for_load_state("load")
    expect(page.get_by_role("link", name="Web shop")).to_be_visible()
    screenshot(page, "systems-list")

    assert console_errors == []


def test_console_check_would_catch_a_csp_violation(page, live_server, personas, console_errors):
    """Guards the test above: an inline script is refused by the CSP and that shows up as an error."""
    login(page, live_server, "viewer")
    with page.expect_console_message(lambda message: message.type == "error"):
        page.evaluate(
            """() => {
                const script = document.createElement("script");
                script.textContent = "window.inlineRan = true";
                document.body.append(script);
            }"""
        )

    assert page.evaluate("() => window.inlineRan") is None
    assert any("Content Security Policy" in error for error in console_errors), console_errors
