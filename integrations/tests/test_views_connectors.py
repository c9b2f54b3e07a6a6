"""Connector pages per role: who sees and changes what, the adapter's own fields and
their errors, credentials that never come back, and "Test connection"."""

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from guardian.shortcuts import assign_perm

from integrations import crypto
from integrations.adapters.base import Check
from integrations.models import Connector
from integrations.tests.factories import SystemFactory
from integrations.tests.pages import API_TOKEN, WEBHOOK_SECRET, make_flow, rest_connector, webhook_connector

pytestmark = pytest.mark.django_db

LIST = reverse("integrations:connector_list")
ADD = reverse("integrations:connector_add")
FIELDS = reverse("integrations:connector_adapter_fields")


def url(name, connector):
    return reverse(f"integrations:connector_{name}", args=[connector.pk])


def webhook_form(system, **extra):
    return {
        "name": "Shop orders in",
        "system": system.pk,
        "adapter": "webhook",
        "enabled": "on",
        "setting__id_field": "order_no",
        "setting__version_field": "",
        "setting__tolerance_seconds": "300",
        "setting__max_body_bytes": "1048576",
        "credential__secret": WEBHOOK_SECRET,
        **extra,
    }


def rest_form(system, **extra):
    return {
        "name": "ERP REST",
        "system": system.pk,
        "adapter": "rest",
        "enabled": "on",
        "setting__base_url": "https://erp.example.com/api",
        "setting__paths": '{"customer": "/customers"}',
        "setting__auth_type": "bearer",
        "credential__token": API_TOKEN,
        **extra,
    }


def test_engineer_creates_a_connector_sees_it_and_another_engineer_does_not(client_for, personas, django_user_model):
    system = SystemFactory()
    client = client_for(personas["engineer"])
    response = client.post(ADD, webhook_form(system))
    connector = Connector.objects.get(name="Shop orders in")
    assert response.status_code == 302 and response["Location"] == connector.get_absolute_url()
    assert connector.settings == {"id_field": "order_no", "tolerance_seconds": 300, "max_body_bytes": 1048576}
    assert crypto.decrypt(connector.credentials) == {"secret": WEBHOOK_SECRET}
    assert client.get(connector.get_absolute_url()).status_code == 200
    assert b"Shop orders in" in client.get(LIST).content

    from accounts.roles import Role
    from accounts.tests.factories import UserFactory

    other = UserFactory(username="engineer2", role=Role.INTEGRATION_ENGINEER)
    client.force_login(other)
    for name in ("detail", "edit", "delete"):
        assert client.get(url(name, connector)).status_code == 404
    assert client.post(url("test", connector)).status_code == 404
    assert b"Shop orders in" not in client.get(LIST).content


def test_admin_sees_all_and_viewer_and_auditor_read_only(client_for, personas):
    connector = rest_connector(owner=personas["engineer"])
    for role in ("admin", "viewer", "auditor"):
        client = client_for(personas[role])
        assert connector.name.encode() in client.get(LIST).content
        page = client.get(connector.get_absolute_url())
        assert page.status_code == 200
        can_edit = role == "admin"
        assert (b"test-connection" in page.content) is can_edit
        assert (url("edit", connector).encode() in page.content) is can_edit
    for role in ("viewer", "auditor"):
        client = client_for(personas[role])
        assert client.get(ADD).status_code == 403
        assert client.get(url("edit", connector)).status_code == 404
        assert client.post(url("delete", connector)).status_code == 404
        assert client.post(url("test", connector)).status_code == 404


def test_nobody_gets_404_and_no_menu_entry(client_for, personas):
    connector = rest_connector()
    client = client_for(personas["nobody"])
    assert client.get(connector.get_absolute_url()).status_code == 404
    assert client.get(ADD).status_code == 403
    assert b"empty-state" in client.get(LIST).content


def test_a_grant_on_one_connector_shows_only_that_one(client_for, personas):
    granted, hidden = rest_connector("Granted"), rest_connector("Hidden")
    assign_perm("view_connector", personas["nobody"], granted)
    content = client_for(personas["nobody"]).get(LIST).content
    assert b"Granted" in content and b"Hidden" not in content
    assert client_for(personas["nobody"]).get(hidden.get_absolute_url()).status_code == 404


def test_bad_settings_get_field_level_errors(client_for, personas):
    system = SystemFactory()
    data = rest_form(system, **{"setting__base_url": "ftp://erp", "setting__paths": '{"customer": "customers"}'})
    response = client_for(personas["engineer"]).post(ADD, data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "http://" in errors["setting__base_url"][0]
    assert "start with /" in errors["setting__paths"][0]
    assert b"is-invalid" in response.content
    assert not Connector.objects.exists()


def test_bad_json_and_missing_credentials_are_reported_by_field(client_for, personas):
    system = SystemFactory()
    data = rest_form(system, **{"setting__paths": "{not json", "credential__token": ""})
    errors = client_for(personas["engineer"]).post(ADD, data).context["form"].errors
    assert "JSON" in errors["setting__paths"][0]
    data = rest_form(system, **{"credential__token": ""})
    errors = client_for(personas["engineer"]).post(ADD, data).context["form"].errors
    assert errors["credential__token"] == ["Required for Bearer token authentication."]
    data = webhook_form(system, **{"credential__secret": "short"})
    errors = client_for(personas["engineer"]).post(ADD, data).context["form"].errors
    assert "24" in errors["credential__secret"][0]


def test_credentials_never_appear_on_any_page(client_for, personas):
    system = SystemFactory()
    client = client_for(personas["admin"])
    client.post(ADD, rest_form(system))
    connector = Connector.objects.get()
    pages = [
        LIST,
        connector.get_absolute_url(),
        url("edit", connector),
        f"{FIELDS}?adapter=rest&connector={connector.pk}",
    ]
    for page in pages:
        content = client.get(page).content.decode()
        assert API_TOKEN not in content, page
    detail = client.get(connector.get_absolute_url()).content.decode()
    assert "Set on" in detail
    edit = client.get(url("edit", connector)).content.decode()
    assert 'type="password"' in edit and "Leave blank to keep the current value" in edit
    entries = LogEntry.objects.get_for_object(connector)
    assert all(API_TOKEN not in str(e.changes) + str(e.additional_data) for e in entries)


def test_blank_credential_keeps_the_stored_one_and_a_new_one_replaces_it(client_for, personas):
    connector = webhook_connector(owner=personas["engineer"])
    client = client_for(personas["engineer"])
    data = webhook_form(connector.system, name=connector.name, **{"credential__secret": ""})
    assert client.post(url("edit", connector), data).status_code == 302
    connector.refresh_from_db()
    assert crypto.decrypt(connector.credentials) == {"secret": WEBHOOK_SECRET}
    assert not LogEntry.objects.get_for_object(connector).filter(additional_data__event="credentials.replaced").exists()

    new_secret = "another-secret-of-enough-length-42"
    data["credential__secret"] = new_secret
    assert client.post(url("edit", connector), data).status_code == 302
    connector.refresh_from_db()
    assert crypto.decrypt(connector.credentials) == {"secret": new_secret}
    entry = LogEntry.objects.get_for_object(connector).get(additional_data__event="credentials.replaced")
    assert entry.actor == personas["engineer"] and entry.additional_data["fields"] == ["secret"]
    assert new_secret not in str(entry.changes)


def test_choosing_another_adapter_renders_its_fields(client_for, personas):
    client = client_for(personas["engineer"])
    rest = client.get(FIELDS, {"adapter": "rest"}).content.decode()
    assert 'name="setting__base_url"' in rest and 'name="credential__token"' in rest
    webhook = client.get(FIELDS, {"adapter": "webhook"}).content.decode()
    assert 'name="setting__tolerance_seconds"' in webhook and 'name="setting__base_url"' not in webhook
    sql = client.get(FIELDS, {"adapter": "sql"}).content.decode()
    assert 'name="setting__dialect"' in sql and "<textarea" in sql  # entities: JSON
    page = client.get(ADD).content.decode()
    assert 'hx-get="/integrations/connectors/adapter-fields/"' in page


def test_adapter_fields_of_an_unseen_connector_are_404(client_for, personas):
    connector = rest_connector()
    response = client_for(personas["engineer"]).get(FIELDS, {"adapter": "rest", "connector": connector.pk})
    assert response.status_code == 404
    assert client_for(personas["viewer"]).get(FIELDS, {"adapter": "rest"}).status_code == 403


def test_test_connection_renders_each_check_and_is_audited(client_for, personas, monkeypatch):
    connector = rest_connector(owner=personas["engineer"])
    checks = [Check("Resolve host", True, "erp.example.com"), Check("Authenticate", False, "401 Unauthorized")]
    monkeypatch.setattr("integrations.engine.actions.test_connection", lambda c: checks)
    response = client_for(personas["engineer"]).post(url("test", connector), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "✓" in html and "✗" in html and "401 Unauthorized" in html and "Some checks failed" in html
    entry = LogEntry.objects.get_for_object(connector).get(action=LogEntry.Action.ACCESS)
    assert entry.actor == personas["engineer"]
    assert entry.additional_data == {
        "action": "test_connection",
        "ok": False,
        "checks": [{"name": "Resolve host", "ok": True}, {"name": "Authenticate", "ok": False}],
    }


def test_webhook_connection_test_runs_for_real(client_for, personas):
    connector = webhook_connector(owner=personas["engineer"])
    html = client_for(personas["engineer"]).post(url("test", connector)).content.decode()
    assert "Every check passed" in html and "Signing secret set" in html
    assert WEBHOOK_SECRET not in html


def test_connector_in_use_is_not_deleted(client_for, personas):
    flow = make_flow()
    connector = flow.source
    response = client_for(personas["admin"]).post(url("delete", connector), follow=True)
    assert Connector.objects.filter(pk=connector.pk).exists()
    assert "still used by flows" in response.content.decode()


def test_engineer_deletes_own_unused_connector(client_for, personas):
    connector = rest_connector(owner=personas["engineer"])
    response = client_for(personas["engineer"]).post(url("delete", connector))
    assert response.status_code == 302 and not Connector.objects.filter(pk=connector.pk).exists()


def test_list_query_count_is_bounded(client_for, personas, django_assert_max_num_queries):
    for n in range(20):
        rest_connector(f"REST {n}")
    client = client_for(personas["viewer"])
    with django_assert_max_num_queries(12):
        assert client.get(LIST).status_code == 200
