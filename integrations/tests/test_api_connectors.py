"""/api/v1/connectors/: restrict() and grants as on the pages, settings and credentials
validated per field by the adapter, credentials write-only, "test" audited."""

import json

import pytest
from auditlog.models import LogEntry
from guardian.shortcuts import assign_perm
from rest_framework.test import APIClient

from conftest import api_as
from integrations import crypto
from integrations.adapters.base import Check
from integrations.models import Connector
from integrations.tests.factories import SystemFactory
from integrations.tests.pages import API_TOKEN, WEBHOOK_SECRET, rest_connector, webhook_connector

pytestmark = pytest.mark.django_db

URL = "/api/v1/connectors/"


def rest_body(system, **extra):
    return {
        "name": "ERP REST",
        "system": system.pk,
        "adapter": "rest",
        "settings": {
            "base_url": "https://erp.example.com/api",
            "paths": {"customer": "/customers"},
            "auth_type": "bearer",
        },
        "credentials": {"token": API_TOKEN},
        **extra,
    }


def test_engineer_creates_sees_own_and_another_engineer_gets_404(personas):
    from accounts.roles import Role
    from accounts.tests.factories import UserFactory

    client = api_as(personas["engineer"])
    response = client.post(URL, rest_body(SystemFactory()), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["has_credentials"] is True and body["credentials_changed"]
    assert "credentials" not in body and API_TOKEN not in json.dumps(body)
    connector = Connector.objects.get(pk=body["id"])
    assert crypto.decrypt(connector.credentials) == {"token": API_TOKEN}
    assert [c["id"] for c in client.get(URL).json()["results"]] == [connector.pk]

    other = api_as(UserFactory(username="engineer2", role=Role.INTEGRATION_ENGINEER))
    assert other.get(f"{URL}{connector.pk}/").status_code == 404
    assert other.patch(f"{URL}{connector.pk}/", {"enabled": False}, format="json").status_code == 404
    assert other.post(f"{URL}{connector.pk}/test/").status_code == 404
    assert other.get(URL).json()["count"] == 0


def test_settings_and_credentials_errors_are_per_field(personas):
    body = rest_body(SystemFactory(), credentials={})
    body["settings"]["base_url"] = "ftp://erp"
    response = api_as(personas["engineer"]).post(URL, body, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert "http://" in errors["settings"]["base_url"][0]
    assert not Connector.objects.exists()

    body = rest_body(SystemFactory(), credentials={})
    errors = api_as(personas["engineer"]).post(URL, body, format="json").json()
    assert errors == {"credentials": {"token": ["Required for Bearer token authentication."]}}

    body = {"name": "Hook", "system": SystemFactory().pk, "adapter": "webhook", "credentials": {"secret": "short"}}
    errors = api_as(personas["engineer"]).post(URL, body, format="json").json()
    assert "24" in errors["credentials"]["secret"][0]


def test_credentials_never_come_back_and_blank_keeps_them(personas):
    connector = webhook_connector(owner=personas["engineer"])
    client = api_as(personas["engineer"])
    for response in (client.get(URL), client.get(f"{URL}{connector.pk}/"), client.options(URL)):
        assert WEBHOOK_SECRET not in response.content.decode()
    response = client.patch(f"{URL}{connector.pk}/", {"credentials": {"secret": ""}, "enabled": False}, format="json")
    assert response.status_code == 200 and WEBHOOK_SECRET not in response.content.decode()
    connector.refresh_from_db()
    assert crypto.decrypt(connector.credentials) == {"secret": WEBHOOK_SECRET} and not connector.enabled
    assert not LogEntry.objects.get_for_object(connector).filter(additional_data__event="credentials.replaced").exists()

    new = "rotated-secret-with-enough-characters"
    session = APIClient()
    session.force_login(personas["engineer"])  # replacing credentials needs a recent sign-in (test_credentials.py)
    response = session.patch(f"{URL}{connector.pk}/", {"credentials": {"secret": new}}, format="json")
    assert response.status_code == 200 and new not in response.content.decode()
    entry = LogEntry.objects.get_for_object(connector).get(additional_data__event="credentials.replaced")
    assert entry.actor == personas["engineer"] and new not in json.dumps(entry.changes)


def test_viewer_reads_without_writing(personas):
    connector = rest_connector()
    client = api_as(personas["viewer"])
    assert client.get(f"{URL}{connector.pk}/").json()["name"] == connector.name
    assert client.post(URL, rest_body(SystemFactory()), format="json").status_code == 403
    assert client.patch(f"{URL}{connector.pk}/", {"enabled": False}, format="json").status_code == 404
    assert client.post(f"{URL}{connector.pk}/test/").status_code == 404
    assert api_as(personas["nobody"]).get(f"{URL}{connector.pk}/").status_code == 404


def test_object_grant_to_change_allows_test_and_edit(personas, monkeypatch):
    connector = rest_connector()
    assign_perm("view_connector", personas["nobody"], connector)
    assign_perm("change_connector", personas["nobody"], connector)
    monkeypatch.setattr("integrations.engine.actions.test_connection", lambda c: [Check("Reach", True, "200 OK")])
    client = api_as(personas["nobody"])
    response = client.post(f"{URL}{connector.pk}/test/")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "checks": [{"name": "Reach", "ok": True, "detail": "200 OK"}]}
    entry = LogEntry.objects.get_for_object(connector).get(action=LogEntry.Action.ACCESS)
    assert entry.additional_data["action"] == "test_connection" and entry.actor == personas["nobody"]
    assert client.patch(f"{URL}{connector.pk}/", {"name": "Renamed"}, format="json").status_code == 200


def test_list_query_count_is_bounded(personas, django_assert_max_num_queries):
    for n in range(20):
        rest_connector(f"REST {n}")
    client = api_as(personas["viewer"])
    with django_assert_max_num_queries(8):
        assert client.get(URL).status_code == 200
