"""System pages: allowed, denied and constrained access, field errors, audit entries."""

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from guardian.shortcuts import assign_perm

from integrations.models import System
from integrations.tests.factories import SystemFactory

pytestmark = pytest.mark.django_db

LIST = reverse("integrations:system_list")
ADD = reverse("integrations:system_add")


def test_anonymous_is_sent_to_login(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_viewer_lists_all_systems(client_for, personas):
    SystemFactory(name="Tryton ERP")
    SystemFactory(name="Web shop")
    response = client_for(personas["viewer"]).get(LIST)
    assert response.status_code == 200
    assert b"Tryton ERP" in response.content and b"Web shop" in response.content
    assert b"Add system" not in response.content  # no add permission, no button


def test_user_without_role_sees_only_granted_systems(client_for, personas):
    granted = SystemFactory(name="Granted CRM")
    SystemFactory(name="Hidden WMS")
    assign_perm("view_system", personas["nobody"], granted)
    client = client_for(personas["nobody"])
    response = client.get(LIST)
    assert b"Granted CRM" in response.content
    assert b"Hidden WMS" not in response.content


def test_unseen_system_is_404_not_403(client_for, personas):
    hidden = SystemFactory()
    client = client_for(personas["nobody"])
    for name in ("system_detail", "system_edit", "system_delete"):
        assert client.get(reverse(f"integrations:{name}", args=[hidden.pk])).status_code == 404


def test_viewer_cannot_edit_or_delete_but_can_read(client_for, personas):
    system = SystemFactory()
    client = client_for(personas["viewer"])
    assert client.get(system.get_absolute_url()).status_code == 200
    assert client.post(reverse("integrations:system_edit", args=[system.pk]), {"name": "x"}).status_code == 404
    assert client.post(reverse("integrations:system_delete", args=[system.pk])).status_code == 404
    assert client.get(ADD).status_code == 403
    assert System.objects.get(pk=system.pk).name == system.name


def test_engineer_creates_system_and_the_change_is_audited(client_for, personas):
    client = client_for(personas["engineer"])
    response = client.post(ADD, {"name": "Tryton ERP", "kind": "erp", "environment": "production", "notes": ""})
    system = System.objects.get(name="Tryton ERP")
    assert response.status_code == 302 and response["Location"] == system.get_absolute_url()
    entry = LogEntry.objects.get_for_object(system).get()
    assert entry.action == LogEntry.Action.CREATE
    assert entry.actor == personas["engineer"]
    assert entry.remote_addr == "127.0.0.1"


def test_form_reports_field_level_errors(client_for, personas):
    SystemFactory(name="Taken")
    client = client_for(personas["engineer"])
    response = client.post(ADD, {"name": "Taken", "kind": "not-a-kind", "environment": "sandbox"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "already exists" in errors["name"][0]
    assert "Select a valid choice" in errors["kind"][0]
    assert b"is-invalid" in response.content  # shown next to the field
    assert System.objects.count() == 1


def test_engineer_edits_and_deletes(client_for, personas):
    system = SystemFactory(name="Old name")
    client = client_for(personas["engineer"])
    data = {"name": "New name", "kind": "crm", "environment": "sandbox", "notes": "moved"}
    assert client.post(reverse("integrations:system_edit", args=[system.pk]), data).status_code == 302
    system.refresh_from_db()
    assert (system.name, system.kind) == ("New name", "crm")
    update = LogEntry.objects.get_for_object(system).filter(action=LogEntry.Action.UPDATE).get()
    assert update.changes_dict["name"] == ["Old name", "New name"]
    assert client.post(reverse("integrations:system_delete", args=[system.pk])).status_code == 302
    assert not System.objects.filter(pk=system.pk).exists()


def test_filters_and_pagination(client_for, personas, settings):
    settings.PAGINATE_BY = 5
    SystemFactory.create_batch(7, kind="erp")
    SystemFactory(name="Only CRM", kind="crm")
    client = client_for(personas["viewer"])
    crm = client.get(LIST, {"kind": "crm"})
    assert list(crm.context["table"].data) == [System.objects.get(name="Only CRM")]
    page_two = client.get(LIST, {"page": 2})
    assert len(page_two.context["table"].page.object_list) == 3
    assert client.get(LIST, {"q": "Only"}).context["table"].paginator.count == 1


def test_list_query_count_does_not_grow_with_rows(client_for, personas, django_assert_max_num_queries):
    SystemFactory.create_batch(25, owner=personas["engineer"])
    client = client_for(personas["viewer"])
    with django_assert_max_num_queries(12):
        assert client.get(LIST).status_code == 200


def test_empty_state_tells_what_to_do(client_for, personas):
    response = client_for(personas["engineer"]).get(LIST)
    assert b"empty-state" in response.content and b"Add the first one" in response.content


def test_page_past_the_end_shows_the_last_page(client_for, personas, settings):
    settings.PAGINATE_BY = 5
    SystemFactory.create_batch(7)
    response = client_for(personas["viewer"]).get(LIST, {"page": 99})
    assert response.status_code == 200
    assert response.context["table"].page.number == 2


def test_missing_owner_shows_a_dash_and_the_form_offers_nobody(client_for, personas):
    SystemFactory(name="Unowned")
    client = client_for(personas["engineer"])
    listing = client.get(LIST).content.decode()
    assert "—" in listing and ">None<" not in listing
    assert "Nobody yet" in client.get(ADD).content.decode()
