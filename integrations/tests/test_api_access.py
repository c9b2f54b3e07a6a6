"""``/api/v1/<objects>/<id>/access/``: the Access tab's rules through the API."""

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group

from accounts.roles import Role
from integrations.tests.factories import SystemFactory
from integrations.tests.pages import make_flow, rest_connector

pytestmark = pytest.mark.django_db


def url(obj, suffix=""):
    return f"/api/v1/{obj._meta.model_name}s/{obj.pk}/access/{suffix}"


@pytest.fixture
def connector(personas):
    return rest_connector("ERP REST", owner=personas["engineer"])


def test_admin_lists_grants_and_revokes(client_for, personas, connector):
    client = client_for(personas["admin"])
    listed = client.get(url(connector)).json()
    assert listed == [
        {"type": "user", "id": personas["engineer"].pk, "name": "engineer", "permissions": ["view", "change", "delete"]}
    ]
    response = client.post(
        url(connector), {"group": Role.AUDITOR, "permissions": ["view"]}, content_type="application/json"
    )
    assert response.status_code == 201
    group = Group.objects.get(name=Role.AUDITOR)
    assert {"type": "group", "id": group.pk, "name": Role.AUDITOR, "permissions": ["view"]} in response.json()
    response = client.post(
        url(connector, "revoke/"),
        {"user": "engineer", "permissions": ["delete", "change"]},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()[0]["permissions"] == ["view"]
    events = LogEntry.objects.filter(additional_data__event__startswith="permission.").order_by("pk")
    assert [(e.additional_data["event"], e.additional_data["permissions"]) for e in events] == [
        ("permission.granted", ["view"]),
        ("permission.revoked", ["change", "delete"]),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"permissions": ["view"]}, "user"),
        ({"user": "engineer", "group": Role.VIEWER, "permissions": ["view"]}, "user"),
        ({"user": "ghost", "permissions": ["view"]}, "user"),
        ({"group": "No such group", "permissions": ["view"]}, "group"),
        ({"user": "viewer", "permissions": ["own"]}, "permissions"),
        ({"user": "viewer", "permissions": ["delete"]}, "permissions"),
        ({"user": "viewer", "permissions": []}, "permissions"),
        ({"user": "engineer", "permissions": ["view"]}, "permissions"),
    ],
)
def test_bad_grants_are_400_by_field(client_for, personas, connector, body, field):
    response = client_for(personas["admin"]).post(url(connector), body, content_type="application/json")
    assert response.status_code == 400
    assert field in response.json()


def test_auditor_reads_engineer_and_viewer_do_not(client_for, personas, connector):
    grant = {"user": "auditor", "permissions": ["view", "change"]}
    auditor = client_for(personas["auditor"])
    assert auditor.get(url(connector)).status_code == 200
    assert auditor.post(url(connector), grant, content_type="application/json").status_code == 403
    assert (
        auditor.post(url(connector, "revoke/"), {"user": "engineer"}, content_type="application/json").status_code
        == 403
    )
    engineer = client_for(personas["engineer"])
    assert engineer.get(url(connector)).status_code == 403
    assert engineer.post(url(connector), grant, content_type="application/json").status_code == 403
    viewer = client_for(personas["viewer"])
    assert viewer.get(url(connector)).status_code == 403
    assert not LogEntry.objects.filter(additional_data__event="permission.granted").exists()


def test_objects_out_of_sight_are_404(client_for, personas):
    flow = make_flow("Someone else's flow")
    client = client_for(personas["engineer"])
    assert client.get(url(flow)).status_code == 404
    body = {"user": "engineer", "permissions": ["view"]}
    assert client.post(url(flow), body, content_type="application/json").status_code == 404


def test_anonymous_is_401_or_403(client):
    system = SystemFactory()
    assert client.get(url(system)).status_code in (401, 403)


def test_session_grant_needs_a_recent_authentication(client_for, personas):
    from accounts.reauth import SESSION_KEY

    system = SystemFactory()
    client = client_for(personas["admin"])
    session = client.session
    session[SESSION_KEY] -= 3600
    session.save()
    response = client.post(url(system), {"user": "viewer", "permissions": ["view"]}, content_type="application/json")
    assert response.status_code == 403 and "recent authentication" in response.json()["detail"]
    assert client.get(url(system)).status_code == 200
