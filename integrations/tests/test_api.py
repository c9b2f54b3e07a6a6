"""/api/v1/systems/: the same choke point as the pages, token and session auth, field errors."""

import pytest
from auditlog.models import LogEntry
from guardian.shortcuts import assign_perm
from rest_framework.test import APIClient

from accounts.tokens import create_token
from conftest import api_as
from integrations.models import System
from integrations.tests.factories import SystemFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/systems/"


def test_anonymous_is_refused():
    SystemFactory()
    assert APIClient().get(URL).status_code in (401, 403)


def test_token_authentication(personas):
    SystemFactory(name="ERP")
    _token, secret = create_token(personas["viewer"], "test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    response = client.get(URL)
    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == ["ERP"]
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get(URL).status_code == 401


def test_list_is_restricted_and_paginated(personas):
    granted = SystemFactory(name="Granted")
    SystemFactory(name="Hidden")
    assign_perm("view_system", personas["nobody"], granted)
    body = api_as(personas["nobody"]).get(URL).json()
    assert body["count"] == 1 and body["results"][0]["name"] == "Granted"
    assert api_as(personas["viewer"]).get(URL).json()["count"] == 2


def test_unseen_object_is_404(personas):
    hidden = SystemFactory()
    client = api_as(personas["nobody"])
    assert client.get(f"{URL}{hidden.pk}/").status_code == 404
    assert client.patch(f"{URL}{hidden.pk}/", {"name": "x"}, format="json").status_code == 404
    assert client.delete(f"{URL}{hidden.pk}/").status_code == 404


def test_viewer_cannot_write(personas):
    system = SystemFactory(name="Keep")
    client = api_as(personas["viewer"])
    assert client.post(URL, {"name": "New", "kind": "erp"}, format="json").status_code == 403
    assert client.patch(f"{URL}{system.pk}/", {"name": "x"}, format="json").status_code == 404
    assert System.objects.get().name == "Keep"


def test_engineer_creates_with_audit_entry(personas):
    client = api_as(personas["engineer"])
    response = client.post(
        URL, {"name": "Shop", "kind": "ecommerce", "environment": "production", "owner": "engineer"}, format="json"
    )
    assert response.status_code == 201, response.json()
    system = System.objects.get(name="Shop")
    assert response.json()["owner"] == "engineer"
    assert LogEntry.objects.get_for_object(system).get().actor == personas["engineer"]


def test_invalid_input_gets_field_level_errors(personas):
    SystemFactory(name="Taken")
    response = api_as(personas["engineer"]).post(
        URL, {"name": "Taken", "kind": "spaceship", "owner": "ghost", "locale": "xx_NOWHERE"}, format="json"
    )
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"name", "kind", "owner", "locale"}
    assert "not a locale we know" in errors["locale"][0]
    assert System.objects.count() == 1


def test_list_query_count_is_bounded(personas, django_assert_max_num_queries):
    SystemFactory.create_batch(30, owner=personas["admin"])
    with django_assert_max_num_queries(8):
        assert api_as(personas["viewer"]).get(URL).status_code == 200


def test_openapi_schema_and_docs(client_for, personas):
    client = client_for(personas["viewer"])
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/systems/" in paths and "/api/v1/systems/{id}/" in paths
    assert client.get("/api/docs/").status_code == 200
