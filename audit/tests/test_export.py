"""Exports of the filtered trail: streamed CSV and JSON Lines, formula-safe, and themselves recorded."""

import csv
import io
import json

import pytest
from auditlog.models import LogEntry
from django.http import StreamingHttpResponse
from django.urls import reverse

from audit.choices import AuditEvent
from audit.context import acting_as
from audit.events import record_event
from audit.export import safe_cell
from integrations.models import System
from integrations.tests.factories import SystemFactory

pytestmark = pytest.mark.django_db

LIST = reverse("audit:logentry_list")
CSV = reverse("audit:logentry_export", args=["csv"])
JSONL = reverse("audit:logentry_export", args=["jsonl"])


def body(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode()


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body(response))))


@pytest.fixture
def trail(personas):
    with acting_as(personas["engineer"], remote_addr="10.0.0.7"):
        erp = SystemFactory(name="ERP")
        shop = SystemFactory(name='=HYPERLINK("http://evil.example","click")')
    record_event("login.failed", repr_="mallory", username="mallory")
    return {"erp": erp, "shop": shop}


def test_csv_export_holds_exactly_the_filtered_entries(client_for, personas, trail):
    system_type = LogEntry.objects.get_for_object(trail["erp"]).get().content_type_id
    response = client_for(personas["auditor"]).get(CSV, {"content_type": system_type, "actor": "engineer"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-trail-')
    rows = csv_rows(response)
    expected = LogEntry.objects.filter(content_type_id=system_type, actor=personas["engineer"])
    assert sorted(int(r["id"]) for r in rows) == sorted(expected.values_list("pk", flat=True))
    erp = next(r for r in rows if r["object_repr"] == "ERP")
    assert erp["actor"] == "engineer" and erp["action"] == "create" and erp["object_type"] == "integrations.system"
    assert erp["remote_addr"] == "10.0.0.7" and json.loads(erp["changes"])["name"] == ["None", "ERP"]


def test_csv_cells_that_look_like_formulas_are_defused(client_for, personas, trail):
    rows = csv_rows(client_for(personas["auditor"]).get(CSV, {"q": "HYPERLINK"}))
    assert {r["object_repr"] for r in rows} == {'\'=HYPERLINK("http://evil.example","click")'}
    for value in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(value) == "'" + value
    assert safe_cell("plain") == "plain" and safe_cell(None) == "" and safe_cell(3) == "3"


def test_jsonl_export_is_one_object_per_line_with_access_events_named(client_for, personas, trail):
    response = client_for(personas["auditor"]).get(JSONL, {"event": "login.fail"})
    assert response["Content-Type"] == "application/x-ndjson; charset=utf-8"
    lines = body(response).splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["event"] for r in records] == ["login.failed"]
    assert records[0]["action"] == "access" and records[0]["additional_data"]["username"] == "mallory"
    assert records[0]["object_repr"] == "mallory"  # no leading apostrophe: JSON is not a spreadsheet


def test_the_export_is_recorded_with_its_filters_and_row_count(client_for, personas, trail):
    client = client_for(personas["auditor"])
    body(client.get(CSV, {"actor": "engineer", "date_from": "2020-01-01"}))
    event = LogEntry.objects.filter(additional_data__event=AuditEvent.EXPORTED).get()
    assert event.actor == personas["auditor"] and event.action == LogEntry.Action.ACCESS
    assert event.remote_addr == "127.0.0.1" and event.cid
    data = event.additional_data
    assert data["format"] == "csv" and data["filters"] == {"actor": "engineer", "date_from": "2020-01-01"}
    assert data["rows"] == LogEntry.objects.filter(actor=personas["engineer"]).count()


def test_bad_filters_are_a_field_error_and_nothing_is_exported_or_recorded(client_for, personas, trail):
    response = client_for(personas["auditor"]).get(CSV, {"date_from": "2024-13-45"})
    assert response.status_code == 400
    assert b"date_from: Enter a valid date." in response.content
    assert not LogEntry.objects.filter(additional_data__event=AuditEvent.EXPORTED).exists()


def test_unknown_format_is_404(client_for, personas):
    assert client_for(personas["auditor"]).get(reverse("audit:logentry_export", args=["xlsx"])).status_code == 404


def test_list_page_offers_exports_of_the_current_filters(client_for, personas, trail):
    html = client_for(personas["auditor"]).get(LIST, {"actor": "engineer", "page": "1"}).content.decode()
    assert f'href="{CSV}?actor=engineer"' in html and f'href="{JSONL}?actor=engineer"' in html


@pytest.mark.parametrize("role", ["engineer", "steward", "viewer", "nobody"])
def test_only_auditors_and_admins_may_export(client_for, personas, trail, role):
    assert client_for(personas[role]).get(CSV).status_code == 403
    assert not LogEntry.objects.filter(additional_data__event=AuditEvent.EXPORTED).exists()


def test_anonymous_export_goes_to_login(client, trail):
    response = client.get(CSV)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_an_auditor_changes_nothing_through_the_trail_pages(client_for, personas, trail, method):
    client = client_for(personas["auditor"])
    entry = LogEntry.objects.get_for_object(trail["erp"]).get()
    before = list(LogEntry.objects.order_by("pk").values())
    for url in (LIST, reverse("audit:logentry_detail", args=[entry.pk]), CSV, JSONL):
        assert getattr(client, method)(url, {"object_repr": "forged"}).status_code == 405, (method, url)
    assert list(LogEntry.objects.order_by("pk").values()) == before
    assert System.objects.get(pk=trail["erp"].pk).name == "ERP"
