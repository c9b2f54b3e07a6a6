"""The home dashboard: real, permission-restricted numbers and a helpful empty state."""

import pytest
from django.urls import reverse
from guardian.shortcuts import assign_perm

from integrations.tests.factories import SystemFactory
from monitoring.choices import Component
from monitoring.models import Heartbeat

pytestmark = pytest.mark.django_db
HOME = reverse("home")


def test_anonymous_goes_to_login(client):
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_counts_are_what_the_user_may_see(client_for, personas):
    visible = SystemFactory()
    SystemFactory.create_batch(2)
    Heartbeat.beat(Component.WORKER, "worker@a")
    assert client_for(personas["viewer"]).get(HOME).context["system_count"] == 3
    assign_perm("view_system", personas["nobody"], visible)
    response = client_for(personas["nobody"]).get(HOME)
    assert response.context["system_count"] == 1
    assert response.context["workers_alive"] == 1


def test_empty_state_invites_engineers_to_add_the_first_system(client_for, personas):
    response = client_for(personas["engineer"]).get(HOME)
    assert b"Add your first system" in response.content
    assert reverse("integrations:system_add").encode() in response.content


def test_empty_state_for_readers_says_whom_to_ask(client_for, personas):
    response = client_for(personas["viewer"]).get(HOME)
    assert b"Add your first system" not in response.content
    assert b"Ask an administrator" in response.content


def test_admin_site_is_for_administrators_only(client_for, personas):
    assert client_for(personas["admin"]).get("/admin/").status_code == 200
    for name in ("engineer", "steward", "auditor", "viewer", "nobody"):
        response = client_for(personas[name]).get("/admin/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"], name
