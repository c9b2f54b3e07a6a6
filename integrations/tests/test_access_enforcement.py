"""One rule everywhere: an engineer sees the connectors and flows granted to them or their group,
and nothing of the others — no name, no count — on list pages, search, filters' choices, form
dropdowns, delete messages, the dashboard and the API (404 for the object itself)."""

import re

import pytest
from django.contrib.auth.models import Group

from accounts import access
from accounts.roles import Role
from accounts.tests.factories import UserFactory
from integrations.tests.pages import make_flow, make_run, rest_connector

pytestmark = pytest.mark.django_db

HIDDEN = ("Hidden CRM", "Hidden flow")


@pytest.fixture
def world():
    team = Group.objects.create(name="ERP team")
    engineer = UserFactory(username="erin", role=Role.INTEGRATION_ENGINEER)
    engineer.groups.add(team)
    mine = rest_connector("Team ERP")
    access.grant(mine, team, ["view", "change", "delete"])  # through the group
    hidden = rest_connector("Hidden CRM")
    hidden.system.name = "CRM"  # systems are visible to every role: only the connector is hidden
    hidden.system.save()
    flow = make_flow("Team flow", source=mine, targets=[mine], trigger="manual", owner=engineer)
    hidden_flow = make_flow("Hidden flow", source=mine, targets=[hidden], trigger="manual")
    make_run(flow)
    make_run(hidden_flow)
    return {"engineer": engineer, "mine": mine, "hidden": hidden, "flow": flow, "hidden_flow": hidden_flow}


def assert_no_hidden_name(body: str, where: str):
    for name in HIDDEN:
        assert name not in body, f"{name!r} leaks on {where}"


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/integrations/connectors/",
        "/integrations/connectors/?q=Hid",
        "/integrations/flows/",
        "/integrations/flows/?q=Hid",
        "/integrations/runs/",
        "/integrations/dead-letters/",
        "/integrations/flows/add/",
        "/integrations/connectors/add/",
        "/integrations/systems/",
        "/api/v1/connectors/",
        "/api/v1/flows/",
        "/api/v1/runs/",
        "/api/v1/flows/?format=api",
        "/api/v1/connectors/?format=api",
    ],
)
def test_pages_filters_dropdowns_and_api_lists_name_no_hidden_object(client_for, world, url):
    response = client_for(world["engineer"]).get(url)
    assert response.status_code == 200, url
    assert_no_hidden_name(response.content.decode(), url)


def test_list_counts_are_of_visible_objects_only(client_for, world):
    client = client_for(world["engineer"])
    assert client.get("/api/v1/connectors/").json()["count"] == 1
    assert client.get("/api/v1/flows/").json()["count"] == 1
    assert client.get("/api/v1/runs/").json()["count"] == 1
    page = client.get("/integrations/connectors/")
    assert page.context["table"].paginator.count == 1
    assert client.get("/").context["health"].flow_count == 1


def test_group_grant_lets_members_change_and_the_flow_list_shows_the_granted_one(client_for, world):
    client = client_for(world["engineer"])
    assert client.get(world["mine"].get_absolute_url()).status_code == 200
    assert client.get(f"/integrations/connectors/{world['mine'].pk}/edit/").status_code == 200
    body = client.get("/integrations/flows/").content.decode()
    assert "Team flow" in body


@pytest.mark.parametrize(
    "path",
    [
        "/integrations/connectors/{hidden}/",
        "/integrations/connectors/{hidden}/edit/",
        "/integrations/connectors/{hidden}/delete/",
        "/integrations/flows/{hidden_flow}/",
        "/integrations/flows/{hidden_flow}/mapping/",
        "/api/v1/connectors/{hidden}/",
        "/api/v1/flows/{hidden_flow}/",
    ],
)
def test_hidden_objects_are_404_like_missing_ones(client_for, world, path):
    client = client_for(world["engineer"])
    hidden = client.get(path.format(hidden=world["hidden"].pk, hidden_flow=world["hidden_flow"].pk))
    missing = client.get(path.format(hidden=999999, hidden_flow=999999))
    assert hidden.status_code == missing.status_code == 404


def test_api_refuses_a_hidden_connector_exactly_like_a_missing_one(client_for, world):
    client = client_for(world["engineer"])

    def create(source_pk):
        body = {"name": f"New {source_pk}", "entity": "customer", "source": source_pk, "targets": [world["mine"].pk]}
        return client.post("/api/v1/flows/", body, content_type="application/json")

    hidden, missing = create(world["hidden"].pk), create(999999)
    assert hidden.status_code == missing.status_code == 400
    strip = lambda r: re.sub(r"\d+", "N", str(r.json()["source"]))  # noqa: E731
    assert strip(hidden) == strip(missing)


def test_run_filter_choices_name_only_visible_flows(client_for, world):
    response = client_for(world["engineer"]).get("/integrations/runs/", {"flow": world["hidden_flow"].pk})
    form = response.context["filter"].form
    assert [str(f) for f in form.fields["flow"].queryset] == ["Team flow"]
    assert "flow" in form.errors  # a hidden flow is not a valid choice, like a missing one
    assert_no_hidden_name(response.content.decode(), "runs filtered by a hidden flow")


def test_delete_refusal_names_no_hidden_flow(client_for, world):
    # "Team ERP" is the source of the hidden flow: deleting it is refused without naming that flow.
    response = client_for(world["engineer"]).post(f"/integrations/connectors/{world['mine'].pk}/delete/", follow=True)
    body = response.content.decode()
    assert "still used by flows" in body
    assert "Team flow" in body and "others you may not see" in body
    assert_no_hidden_name(body, "the delete refusal")
