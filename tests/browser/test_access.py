"""Access in a real browser: an Administrator grants and revokes on a connector's Access tab
(htmx, a field-level error, the audit trail), and a Viewer is refused a merge in the
stewardship workspace, through the pages and through forged requests alike.

Screenshots land in ``tests/artifacts/`` (git-ignored) for people to look at.
"""

import re

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from accounts.roles import Role
from integrations.models import ConnectorGroupObjectPermission
from integrations.tests.pages import rest_connector
from masterdata.choices import CandidateStatus
from masterdata.models import Merge
from masterdata.tests.factories import customer_pair
from tests.browser.conftest import login, screenshot

pytestmark = pytest.mark.browser


def test_administrator_grants_and_revokes_on_the_access_tab(page, live_server, personas, console_errors):
    connector = rest_connector("ERP REST", owner=personas["engineer"])
    viewers = Group.objects.get(name=Role.VIEWER)
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}{connector.get_absolute_url()}")
    page.get_by_test_id("access-tab").click()
    expect(page).to_have_url(f"{live_server.url}/integrations/connectors/{connector.pk}/access/")
    holders = page.get_by_test_id("access-holders")
    expect(holders.locator("tr[data-holder]")).to_have_count(1)
    expect(holders).to_contain_text("engineer")

    # Change without view: a field-level error, nothing granted.
    form = page.get_by_test_id("grant-form")
    form.get_by_label("User or group").select_option(label=Role.VIEWER.value)
    form.get_by_label("View").uncheck()
    form.get_by_label("Change").check()
    form.get_by_test_id("grant").click()
    expect(page.get_by_test_id("grant-form")).to_contain_text("Add view too")
    assert not ConnectorGroupObjectPermission.objects.exists()
    screenshot(page, "access-tab-field-error")

    form = page.get_by_test_id("grant-form")
    form.get_by_label("View").check()
    form.get_by_test_id("grant").click()
    row = page.locator(f"tr[data-holder='group:{viewers.pk}']")
    expect(row).to_contain_text("view")
    expect(row).to_contain_text("change")
    expect(page.get_by_test_id("access-panel").get_by_role("alert")).to_contain_text("Granted view, change")
    assert personas["viewer"].has_perm("change_connector", connector)
    screenshot(page, "access-tab-granted")

    page.once("dialog", lambda dialog: dialog.accept())  # "Revoke every permission of …?"
    row.get_by_test_id("revoke-all").click()
    expect(page.locator(f"tr[data-holder='group:{viewers.pk}']")).to_have_count(0)
    events = LogEntry.objects.filter(additional_data__event__startswith="permission.").order_by("pk")
    assert [e.additional_data["event"] for e in events] == ["permission.granted", "permission.revoked"]
    assert all(e.actor == personas["admin"] for e in events)
    screenshot(page, "access-tab-revoked")
    assert not console_errors


def csrf_headers(page) -> dict:
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    return {"X-CSRFToken": token}


def test_a_viewer_is_refused_a_merge(page, live_server, personas, console_errors):
    older, _newer, candidate = customer_pair()
    login(page, live_server, "viewer")
    nav = page.get_by_test_id("main-nav")
    expect(nav).to_contain_text("Master data")
    expect(nav.get_by_role("link", name=re.compile("Review queue"))).to_have_count(0)

    # Viewers read golden records, with nothing to merge or undo.
    page.goto(f"{live_server.url}{older.get_absolute_url()}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ada Lovelace")
    expect(page.get_by_role("button", name=re.compile("Merge|Undo"))).to_have_count(0)

    # The pair itself is out of sight, as if it did not exist.
    response = page.goto(f"{live_server.url}/masterdata/review/{candidate.pk}/")
    assert response.status == 404
    expect(page.get_by_test_id("not-found")).to_contain_text("nothing you have access to")
    screenshot(page, "viewer-refused-merge")

    # Forged requests, with a valid CSRF token: refused by the page and by the API.
    page.goto(f"{live_server.url}{older.get_absolute_url()}")
    merge = page.request.post(
        f"{live_server.url}/masterdata/review/{candidate.pk}/merge/",
        headers=csrf_headers(page),
        form={"survivor": str(older.pk)},
        max_redirects=0,
    )
    assert merge.status == 403
    api = page.request.post(
        f"{live_server.url}/api/v1/masterdata/candidates/{candidate.pk}/merge/",
        headers=csrf_headers(page),
        data={},
    )
    assert api.status == 403
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.OPEN and not Merge.objects.exists()
    # The browser reports the 404 page as a failed load, and nothing else.
    assert [e for e in console_errors if "404" not in e] == []
