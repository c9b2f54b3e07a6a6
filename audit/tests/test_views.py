"""Audit trail pages: who may see them, what they show, and how each filter narrows them."""

import datetime as dt
import re

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from audit.changes import FieldChange
from audit.context import acting_as
from integrations.models import System
from integrations.tests.factories import SystemFactory

pytestmark = pytest.mark.django_db

LIST = reverse("audit:logentry_list")


def detail_url(entry):
    return reverse("audit:logentry_detail", args=[entry.pk])


def listed(response) -> set[int]:
    """Primary keys of every entry the list would show across all its pages."""
    return {entry.pk for entry in response.context["table"].data}


def before_after_cells(html: str, label: str) -> list[str]:
    """The Before and After cells of the changes-table row for ``label``, as rendered."""
    row = next(r for r in re.findall(r"<tr>.*?</tr>", html, re.S) if f">{label} <code" in r)
    return [cell.strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def entry_for(obj, action):
    return LogEntry.objects.get_for_object(obj).get(action=action)


@pytest.fixture
def system_created_by_engineer(personas):
    with acting_as(personas["engineer"], remote_addr="10.0.0.7"):
        return SystemFactory(name="Tryton ERP")


@pytest.fixture
def system_renamed_by_steward(personas, system_created_by_engineer):
    system = system_created_by_engineer
    with acting_as(personas["steward"], remote_addr="10.0.0.8"):
        system.name = "Tryton ERP (prod)"
        system.save()
    return system


# --- Who may see the trail ----------------------------------------------------


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_auditor_and_admin_see_the_list(client_for, personas, role, system_created_by_engineer):
    response = client_for(personas[role]).get(LIST)
    assert response.status_code == 200
    assert entry_for(system_created_by_engineer, LogEntry.Action.CREATE).pk in listed(response)
    assert b"Tryton ERP" in response.content


@pytest.mark.parametrize("role", ["engineer", "steward", "viewer", "nobody"])
def test_roles_without_view_logentry_are_forbidden(client_for, personas, role, system_created_by_engineer):
    client = client_for(personas[role])
    entry = entry_for(system_created_by_engineer, LogEntry.Action.CREATE)
    assert client.get(LIST).status_code == 403
    assert client.get(detail_url(entry)).status_code == 403
    assert client.get(reverse("audit:logentry_detail", args=[999_999])).status_code == 403  # existence not revealed


def test_anonymous_is_redirected_to_login(client, system_created_by_engineer):
    entry = entry_for(system_created_by_engineer, LogEntry.Action.CREATE)
    for url in (LIST, detail_url(entry)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_trail_is_read_only(client_for, personas, system_created_by_engineer):
    client = client_for(personas["admin"])
    entry = entry_for(system_created_by_engineer, LogEntry.Action.CREATE)
    before = LogEntry.objects.count()
    assert client.post(LIST, {"action": "2"}).status_code == 405
    assert client.post(detail_url(entry), {"object_repr": "forged"}).status_code == 405
    for url in (LIST, detail_url(entry)):
        page = client.get(url).content.split(b"<main", 1)[1]  # the log-out form sits in the navbar, above
        assert b'method="post"' not in page
    assert LogEntry.objects.count() == before
    assert LogEntry.objects.get(pk=entry.pk).object_repr == "Tryton ERP"


# --- What an entry shows ------------------------------------------------------


def test_created_system_appears_in_list_with_actor_address_and_link(client_for, personas, system_created_by_engineer):
    entry = entry_for(system_created_by_engineer, LogEntry.Action.CREATE)
    response = client_for(personas["auditor"]).get(LIST)
    html = response.content.decode()
    row = next(r for r in re.findall(r"<tr.*?</tr>", html, re.S) if "Tryton ERP" in r)
    assert f'href="{detail_url(entry)}"' in row
    assert ">engineer<" in row
    assert "10.0.0.7" in row
    assert "Create" in row and "text-bg-success" in row
    assert "Integrations | system" in row
    assert "Name" in row  # the changed-fields summary


def test_detail_of_a_create_shows_empty_before_and_the_new_values(client_for, personas, system_created_by_engineer):
    entry = entry_for(system_created_by_engineer, LogEntry.Action.CREATE)
    response = client_for(personas["auditor"]).get(detail_url(entry))
    assert response.status_code == 200
    assert FieldChange("name", "Name", None, "Tryton ERP") in response.context["changes"]
    html = response.content.decode()
    before, after = before_after_cells(html, "Name")
    assert "—" in before and after == "Tryton ERP"
    assert "engineer" in html and "10.0.0.7" in html


def test_detail_of_an_update_shows_before_and_after_side_by_side(client_for, personas, system_renamed_by_steward):
    entry = entry_for(system_renamed_by_steward, LogEntry.Action.UPDATE)
    response = client_for(personas["auditor"]).get(detail_url(entry))
    assert response.status_code == 200
    assert [c.field for c in response.context["changes"]] == ["name"]  # unchanged fields are not listed
    html = response.content.decode()
    assert before_after_cells(html, "Name") == ["Tryton ERP", "Tryton ERP (prod)"]
    assert "steward" in html and "10.0.0.8" in html


def test_detail_of_a_group_membership_change_lists_the_added_group(client_for, personas):
    # UserFactory(role=…) adds the user to the role's group: an m2m change, stored in another shape.
    entry = LogEntry.objects.get_for_object(personas["viewer"]).filter(changes__has_key="groups").get()
    response = client_for(personas["auditor"]).get(detail_url(entry))
    assert response.status_code == 200
    assert FieldChange("groups", "Groups", None, "added: Viewer") in response.context["changes"]


def test_missing_entry_is_404(client_for, personas):
    assert client_for(personas["auditor"]).get(reverse("audit:logentry_detail", args=[999_999])).status_code == 404


def test_empty_trail_shows_the_empty_state(client_for, personas):
    client = client_for(personas["auditor"])
    LogEntry.objects.all().delete()  # the personas' own creation was logged
    response = client.get(LIST)
    assert response.status_code == 200
    assert b'data-testid="empty-state"' in response.content
    assert b"No changes recorded yet" in response.content


def test_filter_without_matches_says_so_instead_of_the_empty_state(client_for, personas):
    response = client_for(personas["auditor"]).get(LIST, {"q": "no such object"})
    assert listed(response) == set()
    assert b'data-testid="no-matches"' in response.content
    assert b"No entries match these filters" in response.content
    assert b'data-testid="empty-state"' not in response.content


# --- Filters ------------------------------------------------------------------


def test_action_filter_separates_create_from_update(client_for, personas, system_renamed_by_steward):
    client = client_for(personas["auditor"])
    created = entry_for(system_renamed_by_steward, LogEntry.Action.CREATE)
    updated = entry_for(system_renamed_by_steward, LogEntry.Action.UPDATE)

    only_creates = listed(client.get(LIST, {"action": LogEntry.Action.CREATE}))
    only_updates = listed(client.get(LIST, {"action": LogEntry.Action.UPDATE}))

    assert created.pk in only_creates and updated.pk not in only_creates
    assert updated.pk in only_updates and created.pk not in only_updates
    assert all(e.action == LogEntry.Action.UPDATE for e in LogEntry.objects.filter(pk__in=only_updates))


def test_actor_filter_matches_part_of_the_username(client_for, personas, system_renamed_by_steward):
    client = client_for(personas["auditor"])
    created = entry_for(system_renamed_by_steward, LogEntry.Action.CREATE)
    updated = entry_for(system_renamed_by_steward, LogEntry.Action.UPDATE)

    assert listed(client.get(LIST, {"actor": "ENGIN"})) == {created.pk}
    assert listed(client.get(LIST, {"actor": "stew"})) == {updated.pk}


def test_actor_filter_still_finds_changes_by_a_deleted_user(client_for, personas, system_created_by_engineer):
    entry = entry_for(system_created_by_engineer, LogEntry.Action.CREATE)
    personas["engineer"].delete()  # actor becomes NULL; auditlog kept the email
    response = client_for(personas["auditor"]).get(LIST, {"actor": "engineer@"})
    assert entry.pk in listed(response)
    assert b"engineer@example.com" in response.content


def test_object_type_filter_offers_only_logged_types_and_narrows(client_for, personas, system_created_by_engineer):
    client = client_for(personas["auditor"])
    system_type = ContentType.objects.get_for_model(System)
    heartbeat_type = ContentType.objects.get(app_label="monitoring", model="heartbeat")  # excluded from the trail

    response = client.get(LIST, {"content_type": system_type.pk})
    offered = set(response.context["filter"].form.fields["content_type"].queryset)
    assert system_type in offered and heartbeat_type not in offered
    assert listed(response) == {entry_for(system_created_by_engineer, LogEntry.Action.CREATE).pk}
    assert LogEntry.objects.exclude(content_type=system_type).exists()  # so the filter did narrow


def test_object_search_matches_id_exactly_or_name_in_part(client_for, personas):
    client = client_for(personas["auditor"])
    crm, shop = SystemFactory(name="Sales CRM"), SystemFactory(name="Web shop")
    crm_entry, shop_entry = (entry_for(s, LogEntry.Action.CREATE) for s in (crm, shop))

    assert listed(client.get(LIST, {"q": "crm", "content_type": crm_entry.content_type_id})) == {crm_entry.pk}
    by_id = listed(client.get(LIST, {"q": str(shop.pk), "content_type": shop_entry.content_type_id}))
    assert by_id == {shop_entry.pk}


def test_date_range_includes_and_excludes_by_day(client_for, personas, system_created_by_engineer):
    client = client_for(personas["auditor"])
    entry = entry_for(system_created_by_engineer, LogEntry.Action.CREATE)
    LogEntry.objects.filter(pk=entry.pk).update(timestamp=dt.datetime(2024, 3, 15, 12, 0, tzinfo=dt.UTC))

    assert entry.pk in listed(client.get(LIST, {"date_from": "2024-03-15", "date_to": "2024-03-15"}))
    assert entry.pk not in listed(client.get(LIST, {"date_to": "2024-03-14"}))
    assert entry.pk not in listed(client.get(LIST, {"date_from": "2024-03-16"}))
    recent = listed(client.get(LIST, {"date_from": "2024-03-16"}))
    assert recent and entry.pk not in recent  # the personas' entries (today) are still there


def test_bad_date_is_a_field_error_not_a_crash(client_for, personas, system_created_by_engineer):
    response = client_for(personas["auditor"]).get(LIST, {"date_from": "2024-13-45"})
    assert response.status_code == 200
    assert "date_from" in response.context["filter"].form.errors
    assert b"is-invalid" in response.content and b"Enter a valid date." in response.content
    assert listed(response) == set()  # nothing listed under a filter that could not be applied
    assert b'data-testid="filter-errors"' in response.content


def test_date_range_ending_before_it_starts_is_a_field_error(client_for, personas):
    response = client_for(personas["auditor"]).get(LIST, {"date_from": "2024-03-16", "date_to": "2024-03-15"})
    assert response.status_code == 200
    assert response.context["filter"].form.errors["date_to"] == ["The end date is before the start date."]
    assert b"is-invalid" in response.content


def test_list_is_newest_first_and_paginated(client_for, personas, settings):
    settings.PAGINATE_BY = 2
    client = client_for(personas["auditor"])
    old, new = SystemFactory(name="Old system"), SystemFactory(name="New system")
    old_entry, new_entry = (entry_for(s, LogEntry.Action.CREATE) for s in (old, new))
    # Backdated and created first, so neither pk nor insertion order could pass for time order.
    LogEntry.objects.filter(pk=new_entry.pk).update(timestamp=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    LogEntry.objects.filter(pk=old_entry.pk).update(timestamp=dt.datetime(2024, 3, 15, tzinfo=dt.UTC))

    systems_only = client.get(LIST, {"content_type": old_entry.content_type_id})
    assert [row.record.pk for row in systems_only.context["table"].page.object_list] == [new_entry.pk, old_entry.pk]

    everything = client.get(LIST)
    assert everything.context["table"].paginator.num_pages > 1
    assert len(everything.context["table"].page.object_list) == 2
    assert b"page=2" in everything.content  # the pager is rendered


# --- Cost ---------------------------------------------------------------------


def test_list_query_count_does_not_grow_with_entries(client_for, personas, django_assert_max_num_queries, settings):
    client = client_for(personas["auditor"])
    with acting_as(personas["engineer"], remote_addr="10.0.0.7"):
        SystemFactory.create_batch(30)
    assert LogEntry.objects.count() >= 30
    client.get(LIST)  # warm the session and permission caches like any later page view

    with django_assert_max_num_queries(11):  # 10, and one for the menu's count of open alerts
        response = client.get(LIST)

    assert response.status_code == 200
    assert len(response.context["table"].page.object_list) == settings.PAGINATE_BY
    assert response.content.count(b'href="/audit/') >= settings.PAGINATE_BY  # every row linked, rendered in budget


# --- Access events, correlation ids and the chain's status -----------------------------


def test_event_filter_finds_access_events_by_name_prefix(client_for, personas):
    from audit.events import record_event

    failed = record_event("login.failed", repr_="mallory", username="mallory")
    locked = record_event("login.locked_out", repr_="mallory", username="mallory")
    exported = record_event("audit.exported", actor=personas["auditor"], format="csv")
    client = client_for(personas["auditor"])
    assert {failed.pk, locked.pk} <= listed(client.get(LIST, {"event": "login."}))
    assert exported.pk not in listed(client.get(LIST, {"event": "login."}))
    assert listed(client.get(LIST, {"event": "login.locked"})) == {locked.pk}


def test_cid_filter_lists_every_entry_of_one_request(client_for, personas):
    client = client_for(personas["engineer"])
    response = client.post(reverse("integrations:system_add"), {"name": "ERP", "kind": "erp", "environment": "sandbox"})
    cid = response["X-Correlation-ID"]
    same_request = set(LogEntry.objects.filter(cid=cid).values_list("pk", flat=True))
    assert same_request
    auditor = client_for(personas["auditor"])
    assert listed(auditor.get(LIST, {"cid": cid})) == same_request
    entry = LogEntry.objects.get(pk=min(same_request))
    html = auditor.get(detail_url(entry)).content.decode()
    assert f'href="{LIST}?cid={cid}"' in html  # the detail page links to the rest of the request


def test_detail_of_an_access_event_names_it_and_lists_its_details(client_for, personas):
    from audit.events import record_event

    entry = record_event("audit.exported", actor=personas["auditor"], format="csv", filters={"actor": "eng"}, rows=12)
    html = client_for(personas["auditor"]).get(detail_url(entry)).content.decode()
    assert '<code data-testid="event-name">audit.exported</code>' in html
    assert '<dt>Format</dt><dd class="text-break">csv</dd>' in html
    assert "{&quot;actor&quot;: &quot;eng&quot;}" in html and "<dt>Rows</dt>" in html
    assert "An access event: nothing was changed" in html
    row = client_for(personas["auditor"]).get(LIST, {"event": "audit.exported"}).content.decode()
    assert "<code>audit.exported</code>" in row  # the list names the event in place of changed fields


def test_list_shows_the_chains_last_verification(client_for, personas):
    from audit import chain
    from audit.verify import verify

    client = client_for(personas["auditor"])
    assert b"Hash chain not verified yet" in client.get(LIST).content
    chain.seal_pending()
    report = verify()
    html = client.get(LIST).content.decode()
    assert "Hash chain intact" in html and f"last seal {report.head_seq}" in html
    LogEntry.objects.filter(pk=LogEntry.objects.order_by("pk").first().pk).update(object_repr="Forged")
    verify()
    assert "Hash chain broken" in client.get(LIST).content.decode()
