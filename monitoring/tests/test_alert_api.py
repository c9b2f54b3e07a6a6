"""/api/v1/alerts/: the same choke point as the pages (404 for alerts the caller may not view,
403 without the role's permission), acknowledging (audit event, 409 with the reason), filters,
token authentication, bounded queries and the OpenAPI schema."""

import pytest
from auditlog.models import LogEntry
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tokens import create_token
from conftest import api_as
from integrations.tests.pages import make_flow
from monitoring.alerts import evaluate
from monitoring.choices import AlertKind, Severity
from monitoring.models import Alert
from monitoring.tests.factories import failing_flow, make_alert, paused_connector, worker_alert

pytestmark = pytest.mark.django_db
URL = "/api/v1/alerts/"


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["title"] for row in response.json()["results"]]


def ack(client, alert):
    return client.post(f"{URL}{alert.pk}/acknowledge/")


@pytest.fixture
def two_flows(personas):
    """Flow A granted to the engineer (as its creator), flow B not; one open alert about each."""
    return {
        "a": make_alert("A failed", flow=make_flow("Shop orders to ERP", owner=personas["engineer"])),
        "b": make_alert("B failed", flow=make_flow("Payroll to bank")),
    }


def test_anonymous_is_refused(two_flows):
    assert APIClient().get(URL).status_code == 401
    assert ack(APIClient(), two_flows["a"]).status_code == 401


def test_engineer_sees_only_the_alert_of_the_granted_flow(personas, two_flows):
    client = api_as(personas["engineer"])
    assert titles(client.get(URL)) == ["A failed"]
    assert client.get(f"{URL}{two_flows['a'].pk}/").status_code == 200
    assert client.get(f"{URL}{two_flows['b'].pk}/").status_code == 404
    assert ack(client, two_flows["b"]).status_code == 404
    assert Alert.objects.get(pk=two_flows["b"].pk).acknowledged_at is None


def test_roles_without_alerts_get_403(personas, two_flows):
    for name in ("steward", "nobody"):
        client = api_as(personas[name])
        assert client.get(URL).status_code == 403, name
        assert client.get(f"{URL}{two_flows['a'].pk}/").status_code == 403, name
        assert ack(client, two_flows["a"]).status_code == 403, name
    assert not Alert.objects.filter(acknowledged_at__isnull=False).exists()


def test_worker_alerts_only_with_view_heartbeat(personas):
    alert = worker_alert()
    assert titles(api_as(personas["engineer"]).get(URL)) == [alert.title]
    assert titles(api_as(personas["auditor"]).get(URL)) == [alert.title]
    viewer = api_as(personas["viewer"])
    assert titles(viewer.get(URL)) == []
    assert viewer.get(f"{URL}{alert.pk}/").status_code == 404


def test_viewer_reads_but_cannot_acknowledge(personas, two_flows):
    client = api_as(personas["viewer"])
    assert sorted(titles(client.get(URL))) == ["A failed", "B failed"]
    response = ack(client, two_flows["a"])
    assert response.status_code == 403
    assert response.json()["detail"] == "Your role may see this alert but not acknowledge it."
    assert Alert.objects.get(pk=two_flows["a"].pk).acknowledged_at is None


def test_acknowledge_returns_the_alert_and_records_the_event(personas, two_flows):
    alert, engineer = two_flows["a"], personas["engineer"]
    response = ack(api_as(engineer), alert)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == alert.pk and body["status"] == "acknowledged"
    assert body["acknowledged_by"] == "engineer" and body["acknowledged_at"]
    assert body["page"].endswith(f"/alerts/{alert.pk}/")
    alert.refresh_from_db()
    assert alert.acknowledged_by == engineer
    event = LogEntry.objects.get(additional_data__event="alert.acknowledged")
    assert event.actor == engineer and event.object_pk == str(alert.pk)


def test_second_acknowledge_is_a_409_naming_who(personas, two_flows):
    alert = two_flows["a"]
    assert ack(api_as(personas["admin"]), alert).status_code == 200
    response = ack(api_as(personas["engineer"]), alert)
    assert response.status_code == 409
    assert response.json() == {"detail": "admin already acknowledged this alert."}
    assert LogEntry.objects.filter(additional_data__event="alert.acknowledged").count() == 1


def test_a_resolved_alert_is_a_409(personas):
    flow = failing_flow(owner=personas["engineer"])
    evaluate()
    alert = Alert.objects.get(flow=flow)
    flow.runs.update(status="succeeded")
    evaluate()
    response = ack(api_as(personas["engineer"]), alert)
    assert response.status_code == 409
    assert response.json()["detail"] == "This alert is already resolved: its condition ended."


def test_filters(personas):
    connector = paused_connector("ERP REST")
    evaluate()  # the circuit alert first: evaluating resolves alerts whose condition is not there
    flow = make_flow("Orders")
    make_alert("open critical", flow=flow)
    make_alert("open warning", flow=flow, severity=Severity.WARNING, kind=AlertKind.DEAD_LETTERS)
    make_alert("seen", flow=flow, acknowledged_at=timezone.now(), acknowledged_by=personas["admin"])
    make_alert("over", flow=flow, resolved_at=timezone.now())
    client = api_as(personas["admin"])
    circuit = "Deliveries to ERP REST are paused: its circuit breaker opened"

    def get(**query):
        return sorted(titles(client.get(URL, query)))

    assert get() == sorted([circuit, "open critical", "open warning", "seen", "over"])  # every alert by default
    assert get(status="all") == get()
    assert get(status="open") == sorted([circuit, "open critical", "open warning"])
    assert get(status="acknowledged") == ["seen"]
    assert get(status="resolved") == ["over"]
    assert get(status="unresolved") == sorted([circuit, "open critical", "open warning", "seen"])
    assert get(severity="warning") == ["open warning"]
    assert get(kind="circuit_open") == [circuit]
    assert get(connector=connector.pk) == [circuit]
    assert get(flow=flow.pk) == sorted(["open critical", "open warning", "seen", "over"])
    bad = client.get(URL, {"status": "sleeping"})
    assert bad.status_code == 400 and "status" in bad.json()


def test_list_order_is_unresolved_then_critical_then_newest(personas):
    flow = make_flow("Orders")
    make_alert("old warning", flow=flow, severity=Severity.WARNING, minutes_ago=30)
    make_alert("over", flow=flow, resolved_at=timezone.now())
    make_alert("old critical", flow=flow, minutes_ago=20)
    make_alert("new critical", flow=flow, minutes_ago=1)
    assert titles(api_as(personas["viewer"]).get(URL)) == ["new critical", "old critical", "old warning", "over"]


def test_token_authentication(personas, two_flows):
    _token, secret = create_token(personas["engineer"], "monitoring script")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert titles(client.get(URL, {"status": "open"})) == ["A failed"]
    assert ack(client, two_flows["a"]).status_code == 200
    event = LogEntry.objects.get(additional_data__event="alert.acknowledged")
    assert event.actor == personas["engineer"]


def test_list_query_count_is_bounded(personas, django_assert_max_num_queries):
    flows = [make_flow(f"Flow {n}", owner=personas["engineer"]) for n in range(3)]
    for n in range(30):
        make_alert(f"alert {n}", flow=flows[n % 3], acknowledged_by=personas["admin"], acknowledged_at=timezone.now())
    client = api_as(personas["engineer"])
    with django_assert_max_num_queries(10):  # 8 today, however many alerts
        assert len(titles(client.get(URL))) == 30


def test_openapi_schema_documents_alerts(client_for, personas):
    schema = client_for(personas["viewer"]).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/alerts/", "/api/v1/alerts/{id}/", "/api/v1/alerts/{id}/acknowledge/"} <= set(paths)
    acknowledge = paths["/api/v1/alerts/{id}/acknowledge/"]["post"]
    assert {"200", "403", "409"} <= set(acknowledge["responses"])
    parameters = {p["name"] for p in paths["/api/v1/alerts/"]["get"]["parameters"]}
    assert {"status", "severity", "kind", "flow", "connector"} <= parameters
