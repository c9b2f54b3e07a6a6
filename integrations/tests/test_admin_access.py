"""The Django admin honours restrict(): a staff member without the role's model permissions
sees, changes and picks only the objects granted to them, and no name of any other leaks
(lists, counts, search, filters, related-object dropdowns, autocomplete)."""

import pytest

from accounts import access
from accounts.tests.factories import UserFactory
from integrations.tests.pages import make_flow, make_outcomes, make_run, rest_connector

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    mine = rest_connector("Granted ERP")
    hidden = rest_connector("Hidden CRM")
    flow = make_flow("Granted flow", source=mine, targets=[mine], trigger="manual")
    hidden_flow = make_flow("Hidden flow", source=hidden, targets=[hidden], trigger="manual")
    make_outcomes(make_run(hidden_flow), 2)
    staff = UserFactory(username="deputy", is_staff=True)
    access.grant(mine, staff, ["view", "change"])
    access.grant(flow, staff, ["view", "change"])
    return {"mine": mine, "hidden": hidden, "flow": flow, "hidden_flow": hidden_flow, "staff": staff}


def test_changelists_show_only_granted_objects(client_for, world):
    client = client_for(world["staff"])
    index = client.get("/admin/").content.decode()
    assert "/admin/integrations/connector/" in index
    for url in [
        "/admin/integrations/connector/",
        "/admin/integrations/flow/",
        "/admin/integrations/connector/?q=Hid",
        "/admin/integrations/flow/?q=Hid",
        "/admin/integrations/run/",
        "/admin/integrations/recordoutcome/",
    ]:
        response = client.get(url)
        assert response.status_code in (200, 403), url
        body = response.content.decode()
        assert "Hidden CRM" not in body and "Hidden flow" not in body, url
    listed = client.get("/admin/integrations/connector/")
    assert list(listed.context["cl"].result_list) == [world["mine"]]
    assert listed.context["cl"].full_result_count == 1  # "1 of 1": no count of the others


def test_change_pages_of_other_objects_are_out_of_reach(client_for, world):
    client = client_for(world["staff"])
    hidden = world["hidden"]
    assert client.get(f"/admin/integrations/connector/{world['mine'].pk}/change/").status_code == 200
    for url in [
        f"/admin/integrations/connector/{hidden.pk}/change/",
        f"/admin/integrations/connector/{hidden.pk}/delete/",
        f"/admin/integrations/connector/{hidden.pk}/history/",
    ]:
        response = client.get(url)
        # The same answer as for an id that does not exist (403 where the person may delete nothing at all).
        missing = client.get(url.replace(f"/{hidden.pk}/", "/999999/"))
        assert (response.status_code, response.get("Location")) == (missing.status_code, missing.get("Location")), url
        assert response.status_code in (302, 403) and "Hidden CRM" not in response.content.decode(), url
    response = client.post(f"/admin/integrations/connector/{hidden.pk}/change/", {"name": "Renamed"})
    hidden.refresh_from_db()
    assert hidden.name == "Hidden CRM"
    # Granted view and change, not delete.
    assert client.get(f"/admin/integrations/connector/{world['mine'].pk}/delete/").status_code == 403


def test_related_dropdowns_list_only_visible_objects(client_for, world):
    body = client_for(world["staff"]).get(f"/admin/integrations/flow/{world['flow'].pk}/change/").content.decode()
    assert "Granted ERP" in body and "Hidden CRM" not in body


def test_autocomplete_lists_only_visible_objects(client_for, world):
    client = client_for(world["staff"])
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "integrations", "model_name": "flow", "field_name": "source", "term": ""},
    )
    # Django answers for any related field whose model admin has search_fields: from its restricted queryset.
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Granted ERP"]


def test_object_permissions_link_leads_to_the_access_tab(client_for, personas, world):
    response = client_for(personas["admin"]).get(f"/admin/integrations/connector/{world['mine'].pk}/permissions/")
    assert response.status_code == 302
    assert response["Location"] == f"/integrations/connectors/{world['mine'].pk}/access/"
