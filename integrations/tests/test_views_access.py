"""The Access tab of systems, connectors and flows: who sees it, granting and revoking with
field-level errors, htmx, the audit trail, and 404/403 for everyone else."""

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group

from accounts.roles import Role
from accounts.tests.factories import UserFactory
from integrations.models import ConnectorGroupObjectPermission, ConnectorUserObjectPermission
from integrations.tests.factories import SystemFactory
from integrations.tests.pages import make_flow, rest_connector

pytestmark = pytest.mark.django_db


def access_url(obj, suffix=""):
    return f"/integrations/{obj._meta.model_name}s/{obj.pk}/access/{suffix}"


def events(name):
    return LogEntry.objects.filter(additional_data__event=name)


@pytest.fixture
def objects(personas):
    connector = rest_connector("ERP REST", owner=personas["engineer"])
    flow = make_flow("Customers to ERP", owner=personas["engineer"])
    return {"system": SystemFactory(name="Shop"), "connector": connector, "flow": flow}


@pytest.mark.parametrize("kind", ["system", "connector", "flow"])
def test_admin_sees_the_tab_and_who_holds_access(client_for, personas, objects, kind):
    obj = objects[kind]
    client = client_for(personas["admin"])
    detail = client.get(obj.get_absolute_url()).content.decode()
    assert 'data-testid="access-tab"' in detail
    page = client.get(access_url(obj))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="grant-form"' in body
    if kind == "system":
        assert 'data-testid="access-empty"' in body
    else:
        assert f'data-holder="user:{personas["engineer"].pk}"' in body
        assert [h.actions for h in page.context["holders"]] == [["view", "change", "delete"]]


def test_admin_grants_a_group_with_htmx_and_the_trail_records_it(client_for, personas, objects):
    connector = objects["connector"]
    group = Group.objects.get(name=Role.VIEWER)
    client = client_for(personas["admin"])
    response = client.post(
        access_url(connector, "grant/"),
        {"principal": f"group:{group.pk}", "permissions": ["view", "change"]},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response.templates[0].name == "integrations/includes/access_panel.html"
    assert f'data-holder="group:{group.pk}"' in response.content.decode()
    perms = set(
        ConnectorGroupObjectPermission.objects.filter(group=group, content_object=connector).values_list(
            "permission__codename", flat=True
        )
    )
    assert perms == {"view_connector", "change_connector"}
    event = events("permission.granted").get()
    assert event.actor == personas["admin"] and event.object_pk == str(connector.pk)
    assert event.additional_data["principal"] == {"type": "group", "id": group.pk, "name": group.name}
    assert event.additional_data["permissions"] == ["view", "change"]
    # A viewer (in the group) now may change that connector, and only that one.
    viewer = personas["viewer"]
    assert viewer.has_perm("change_connector", connector)


def test_plain_post_redirects_back_to_the_tab(client_for, personas, objects):
    flow = objects["flow"]
    auditor = personas["auditor"]
    response = client_for(personas["admin"]).post(
        access_url(flow, "grant/"), {"principal": f"user:{auditor.pk}", "permissions": ["view"]}
    )
    assert response.status_code == 302 and response["Location"] == access_url(flow)
    assert auditor.has_perm("view_flow", flow)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"permissions": ["view"]}, "principal", "This field is required."),
        ({"principal": "user:999999", "permissions": ["view"]}, "principal", "no longer exists"),
        ({"principal": "robot:1", "permissions": ["view"]}, "principal", "Choose a user or a group."),
        ({"principal": "ENGINEER", "permissions": []}, "permissions", "Choose at least one permission."),
        ({"principal": "VIEWER", "permissions": ["change"]}, "permissions", "Add view too"),
        ({"principal": "ENGINEER", "permissions": ["view"]}, "permissions", "already holds view"),
        ({"principal": "VIEWER", "permissions": ["own"]}, "permissions", "not one of the available choices"),
    ],
)
def test_bad_grants_get_a_field_error_and_change_nothing(client_for, personas, objects, data, field, message):
    connector = objects["connector"]
    names = {"ENGINEER": personas["engineer"], "VIEWER": personas["viewer"]}
    if data.get("principal") in names:
        data = {**data, "principal": f"user:{names[data['principal']].pk}"}
    before = ConnectorUserObjectPermission.objects.count()
    response = client_for(personas["admin"]).post(access_url(connector, "grant/"), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    form = response.context["grant_form"]
    assert any(message in error for error in form.errors[field]), form.errors
    assert 'class="invalid-feedback' in response.content.decode()
    assert ConnectorUserObjectPermission.objects.count() == before
    assert not events("permission.granted").exists()


def test_revoking_one_permission_then_view_takes_the_rest(client_for, personas, objects):
    connector, engineer = objects["connector"], personas["engineer"]
    client = client_for(personas["admin"])
    principal = f"user:{engineer.pk}"
    client.post(access_url(connector, "revoke/"), {"principal": principal, "permissions": ["delete"]})
    assert not engineer.has_perm("delete_connector", connector)
    engineer = type(engineer).objects.get(pk=engineer.pk)  # guardian caches per user object
    assert engineer.has_perm("change_connector", connector)
    response = client.post(
        access_url(connector, "revoke/"), {"principal": principal, "permissions": ["view"]}, HTTP_HX_REQUEST="true"
    )
    assert 'data-testid="access-empty"' in response.content.decode()
    assert not ConnectorUserObjectPermission.objects.filter(content_object=connector).exists()
    assert [e.additional_data["permissions"] for e in events("permission.revoked").order_by("pk")] == [
        ["delete"],
        ["view", "change"],
    ]


def test_revoke_all(client_for, personas, objects):
    flow, engineer = objects["flow"], personas["engineer"]
    response = client_for(personas["admin"]).post(access_url(flow, "revoke/"), {"principal": f"user:{engineer.pk}"})
    assert response.status_code == 302
    assert not type(engineer).objects.get(pk=engineer.pk).has_perm("view_flow", flow)


def test_auditor_sees_the_tab_read_only_and_may_not_grant(client_for, personas, objects):
    connector = objects["connector"]
    client = client_for(personas["auditor"])
    body = client.get(access_url(connector)).content.decode()
    assert 'data-testid="access-read-only"' in body and 'data-testid="grant-form"' not in body
    assert "Revoke all" not in body
    grant = {"principal": f"user:{personas['auditor'].pk}", "permissions": ["view", "change"]}
    assert client.post(access_url(connector, "grant/"), grant).status_code == 403
    engineer = f"user:{personas['engineer'].pk}"
    assert client.post(access_url(connector, "revoke/"), {"principal": engineer}).status_code == 403
    assert ConnectorUserObjectPermission.objects.filter(content_object=connector).count() == 3


@pytest.mark.parametrize("persona", ["engineer", "viewer", "steward"])
def test_others_get_no_tab_and_403_on_objects_they_see(client_for, personas, objects, persona):
    connector = objects["connector"]
    client = client_for(personas[persona])
    detail = client.get(connector.get_absolute_url())
    if detail.status_code == 200:
        assert 'data-testid="object-tabs"' not in detail.content.decode()
        assert client.get(access_url(connector)).status_code == 403
    else:
        assert detail.status_code == 404
        assert client.get(access_url(connector)).status_code == 404
    grant = {"principal": f"user:{personas[persona].pk}", "permissions": ["view", "change", "delete"]}
    assert client.post(access_url(connector, "grant/"), grant).status_code in (403, 404)
    assert not events("permission.granted").exists()


def test_objects_out_of_sight_are_404(client_for, personas):
    other = rest_connector("Someone else's")
    outsider = UserFactory(username="outsider", role=Role.INTEGRATION_ENGINEER)
    client = client_for(outsider)
    assert client.get(access_url(other)).status_code == 404
    grant = {"principal": f"user:{outsider.pk}", "permissions": ["view"]}
    assert client.post(access_url(other, "grant/"), grant).status_code == 404


def test_anonymous_is_sent_to_sign_in(client, objects):
    connector = objects["connector"]
    response = client.get(access_url(connector))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    response = client.post(access_url(connector, "grant/"), {"principal": "user:1", "permissions": ["view"]})
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_granting_asks_for_the_password_again_after_a_few_minutes(client_for, personas, objects):
    from accounts.reauth import SESSION_KEY

    connector, viewer = objects["connector"], personas["viewer"]
    client = client_for(personas["admin"])
    session = client.session
    session[SESSION_KEY] -= 3600  # signed in an hour ago
    session.save()
    grant = {"principal": f"user:{viewer.pk}", "permissions": ["view"]}
    response = client.post(access_url(connector, "grant/"), grant)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/reauth/")
    response = client.post(access_url(connector, "grant/"), grant, HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"].startswith("/accounts/reauth/")
    revoke = {"principal": f"user:{personas['engineer'].pk}"}
    assert client.post(access_url(connector, "revoke/"), revoke)["Location"].startswith("/accounts/reauth/")
    assert not viewer.has_perm("view_connector", connector)
    assert ConnectorUserObjectPermission.objects.filter(content_object=connector).count() == 3
    # Reading the tab needs no re-authentication.
    assert client.get(access_url(connector)).status_code == 200
