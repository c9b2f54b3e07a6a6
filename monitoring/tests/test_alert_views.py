"""The alert pages: who sees which alert (list, detail, menu, dashboard), acknowledging with and
without htmx (audit event, readable refusal), filters, ordering, pagination, the empty state."""

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from config.navigation import menu_for, menu_labels
from integrations.tests.pages import make_flow
from monitoring.alerts import evaluate
from monitoring.choices import AlertKind, AlertStatus, Severity
from monitoring.models import Alert
from monitoring.tests.factories import failing_flow, make_alert, paused_connector, worker_alert

pytestmark = pytest.mark.django_db
LIST = reverse("alert_list")
HOME = reverse("home")


def listed(response) -> list[str]:
    return [alert.title for alert in response.context["alerts"]]


def ack_url(alert) -> str:
    return reverse("alert_acknowledge", args=[alert.pk])


def badge(user):
    """The Alerts entry's badge, or the string "hidden" when the entry is not in the menu."""
    return next((item["badge"] for item in menu_for(user) if item["label"] == "Alerts"), "hidden")


def acknowledged_events():
    return LogEntry.objects.filter(additional_data__event="alert.acknowledged")


@pytest.fixture
def two_flows(personas):
    """Flow A granted to the engineer (as its creator), flow B not; one open alert about each."""
    flow_a = make_flow("Shop orders to ERP", owner=personas["engineer"])
    flow_b = make_flow("Payroll to bank")
    return {
        "a": make_alert("The last run of Shop orders to ERP failed", flow=flow_a),
        "b": make_alert("The last run of Payroll to bank failed", flow=flow_b),
    }


# --- Who sees what ------------------------------------------------------------------------------


def test_anonymous_goes_to_login(client, two_flows):
    for url in (LIST, two_flows["a"].get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    response = client.post(ack_url(two_flows["a"]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert Alert.objects.get(pk=two_flows["a"].pk).acknowledged_at is None


def test_engineer_sees_the_alert_of_the_flow_granted_to_them_and_not_the_other(client_for, personas, two_flows):
    client = client_for(personas["engineer"])
    response = client.get(LIST)
    assert listed(response) == ["The last run of Shop orders to ERP failed"]
    assert "Payroll to bank" not in response.content.decode()

    detail = client.get(two_flows["a"].get_absolute_url())
    assert detail.status_code == 200
    assert 'data-testid="acknowledge"' in detail.content.decode()
    assert client.get(two_flows["b"].get_absolute_url()).status_code == 404
    assert client.post(ack_url(two_flows["b"])).status_code == 404
    assert Alert.objects.get(pk=two_flows["b"].pk).acknowledged_at is None


def test_a_grant_on_a_connector_shows_its_alert(client_for, personas):
    mine = paused_connector("ERP REST", owner=personas["engineer"])
    paused_connector("Bank SFTP")
    evaluate()
    titles = listed(client_for(personas["engineer"]).get(LIST))
    assert titles == ["Deliveries to ERP REST are paused: its circuit breaker opened"]
    assert Alert.objects.get(connector=mine).kind == AlertKind.CIRCUIT_OPEN


def test_worker_alerts_only_for_people_who_may_view_heartbeats(client_for, personas):
    alert = worker_alert()
    for name in ("engineer", "auditor", "admin"):
        client = client_for(personas[name])
        assert listed(client.get(LIST)) == [alert.title], name
        assert client.get(alert.get_absolute_url()).status_code == 200, name
    viewer = client_for(personas["viewer"])
    assert listed(viewer.get(LIST)) == []
    assert viewer.get(alert.get_absolute_url()).status_code == 404


def test_worker_alert_says_workers_as_its_subject(client_for, personas):
    alert = worker_alert()
    html = client_for(personas["engineer"]).get(LIST).content.decode()
    assert 'data-testid="alert-subject"><i class="bi bi-cpu' in html and "Workers</span>" in html
    detail = client_for(personas["engineer"]).get(alert.get_absolute_url()).content.decode()
    assert "Workers" in detail


def test_steward_gets_nothing(client_for, personas, two_flows):
    steward = personas["steward"]
    assert "Alerts" not in menu_labels(steward)
    client = client_for(steward)
    assert client.get(LIST).status_code == 403
    assert client.get(two_flows["a"].get_absolute_url()).status_code == 404
    assert client.post(ack_url(two_flows["a"])).status_code == 404
    home = client.get(HOME)
    assert home.context["alerts"] is None
    assert 'data-testid="alerts-tile"' not in home.content.decode()


def test_someone_without_a_role_gets_nothing_even_with_a_flow_grant(client_for, personas, two_flows):
    """Alerts need the role's permission on alerts; a grant on the flow alone does not show them."""
    nobody = personas["nobody"]
    assign_perm("view_flow", nobody, two_flows["a"].flow)
    assert "Alerts" not in menu_labels(nobody)
    assert client_for(nobody).get(LIST).status_code == 403
    assert client_for(nobody).get(two_flows["a"].get_absolute_url()).status_code == 404


def test_viewer_sees_flow_alerts_but_cannot_acknowledge(client_for, personas, two_flows):
    client = client_for(personas["viewer"])
    response = client.get(LIST)
    assert sorted(listed(response)) == sorted(a.title for a in two_flows.values())
    assert 'data-testid="acknowledge"' not in response.content.decode()
    detail = client.get(two_flows["a"].get_absolute_url()).content.decode()
    assert 'data-testid="acknowledge"' not in detail
    assert 'data-testid="acknowledge-not-allowed"' in detail
    assert client.post(ack_url(two_flows["a"])).status_code == 403
    assert client.post(ack_url(two_flows["a"]), headers={"HX-Request": "true"}).status_code == 403
    assert Alert.objects.get(pk=two_flows["a"].pk).acknowledged_at is None
    assert not acknowledged_events().exists()


def test_auditor_sees_every_alert_but_cannot_acknowledge(client_for, personas, two_flows):
    worker = worker_alert()
    client = client_for(personas["auditor"])
    assert len(listed(client.get(LIST))) == 3
    assert client.post(ack_url(worker)).status_code == 403


# --- Acknowledging ------------------------------------------------------------------------------


def test_acknowledge_records_who_and_when_and_the_audit_event(client_for, personas, two_flows):
    alert, engineer = two_flows["a"], personas["engineer"]
    client = client_for(engineer)
    response = client.post(ack_url(alert), {"next": LIST})
    assert response.status_code == 302 and response["Location"] == LIST
    alert.refresh_from_db()
    assert alert.acknowledged_by == engineer and alert.acknowledged_at is not None
    assert alert.status == AlertStatus.ACKNOWLEDGED and alert.resolved_at is None
    event = acknowledged_events().get()
    assert event.actor == engineer and event.object_pk == str(alert.pk)
    assert event.additional_data["kind"] == AlertKind.RUN_FAILED
    page = client.get(LIST).content.decode()
    assert "Acknowledged “The last run of Shop orders to ERP failed”." in page


def test_acknowledging_twice_says_who_did_it_first(client_for, personas, two_flows):
    alert = two_flows["a"]
    client_for(personas["admin"]).post(ack_url(alert))
    client = client_for(personas["engineer"])
    response = client.post(ack_url(alert), follow=True)
    assert response.redirect_chain[-1][0] == alert.get_absolute_url()
    assert "admin already acknowledged this alert." in response.content.decode()
    alert.refresh_from_db()
    assert alert.acknowledged_by == personas["admin"]
    assert acknowledged_events().count() == 1


def test_a_resolved_alert_cannot_be_acknowledged(client_for, personas):
    flow = failing_flow(owner=personas["engineer"])
    evaluate()
    alert = Alert.objects.get(flow=flow)
    flow.runs.update(status="succeeded")
    evaluate()  # the last run succeeded now: the condition ended
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED
    response = client_for(personas["engineer"]).post(ack_url(alert), follow=True)
    assert "This alert is already resolved: its condition ended." in response.content.decode()
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_acknowledge_with_htmx_swaps_the_status_card_and_the_menu_badge(client_for, personas, two_flows):
    make_alert("Another open one", flow=two_flows["a"].flow)
    client = client_for(personas["engineer"])
    assert badge(personas["engineer"]) == 2
    response = client.post(ack_url(two_flows["a"]), headers={"HX-Request": "true", "HX-Target": "alert-state"})
    assert response.status_code == 200
    assert response.templates[0].name == "monitoring/includes/alert_state.html"
    html = response.content.decode()
    assert "Acknowledged by <strong>engineer</strong>" in html
    assert 'data-testid="acknowledge"' not in html
    assert 'id="menu-badge-alert_list" hx-swap-oob="true"' in html
    assert 'data-testid="menu-badge">1</span>' in html
    assert badge(personas["engineer"]) == 1


def test_acknowledge_from_the_list_with_htmx_swaps_the_row(client_for, personas, two_flows):
    alert = two_flows["a"]
    client = client_for(personas["engineer"])
    listing = client.get(LIST).content.decode()
    assert f'hx-target="#alert-row-{alert.pk}"' in listing
    response = client.post(ack_url(alert), headers={"HX-Request": "true", "HX-Target": f"alert-row-{alert.pk}"})
    assert response.templates[0].name == "monitoring/includes/alert_row.html"
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="alert-row-{alert.pk}"')
    assert 'data-status="acknowledged"' in html and "engineer" in html
    # The last open alert: the badge is hidden.
    assert 'data-testid="menu-badge" hidden>' in html


def test_a_second_acknowledge_with_htmx_shows_the_reason_in_the_swapped_piece(client_for, personas, two_flows):
    alert = two_flows["a"]
    client_for(personas["admin"]).post(ack_url(alert))
    client = client_for(personas["engineer"])
    response = client.post(ack_url(alert), headers={"HX-Request": "true", "HX-Target": "alert-state"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "admin already acknowledged this alert." in html
    assert "Acknowledged by <strong>admin</strong>" in html
    # Shown once, where the person looks: not again on the next page.
    assert "already acknowledged" not in client.get(LIST).content.decode()


def test_next_must_stay_on_this_site(client_for, personas, two_flows):
    response = client_for(personas["engineer"]).post(ack_url(two_flows["a"]), {"next": "https://evil.example/"})
    assert response["Location"] == two_flows["a"].get_absolute_url()


# --- The list: order, filters, pages, empty state --------------------------------------------


def test_unresolved_first_critical_first_then_newest(client_for, personas):
    flow = make_flow("Orders")
    make_alert("old warning", flow=flow, severity=Severity.WARNING, minutes_ago=50)
    make_alert("new warning", flow=flow, severity=Severity.WARNING, minutes_ago=1)
    make_alert("old critical", flow=flow, minutes_ago=60)
    make_alert("new critical", flow=flow, minutes_ago=5)
    make_alert("acknowledged critical", flow=flow, minutes_ago=2, acknowledged_at=timezone.now())
    make_alert("resolved critical", flow=flow, minutes_ago=0, resolved_at=timezone.now())
    client = client_for(personas["admin"])
    assert listed(client.get(LIST)) == [
        "acknowledged critical",
        "new critical",
        "old critical",
        "new warning",
        "old warning",
    ]
    assert listed(client.get(LIST, {"status": "all"}))[-1] == "resolved critical"


def test_status_filters(client_for, personas):
    flow = make_flow("Orders")
    make_alert("open one", flow=flow)
    make_alert("acknowledged one", flow=flow, acknowledged_at=timezone.now(), acknowledged_by=personas["admin"])
    make_alert("resolved one", flow=flow, resolved_at=timezone.now())
    client = client_for(personas["viewer"])

    def titles(**query):
        return sorted(listed(client.get(LIST, query)))

    assert titles() == ["acknowledged one", "open one"]
    assert titles(status="unresolved") == ["acknowledged one", "open one"]
    assert titles(status="open") == ["open one"]
    assert titles(status="acknowledged") == ["acknowledged one"]
    assert titles(status="resolved") == ["resolved one"]
    assert titles(status="all") == ["acknowledged one", "open one", "resolved one"]


def test_severity_and_kind_filters(client_for, personas):
    paused_connector("Bank SFTP")
    evaluate()  # the circuit alert (evaluating resolves alerts of conditions gone: the others come after)
    flow = make_flow("Orders")
    make_alert("failed", flow=flow, kind=AlertKind.RUN_FAILED)
    make_alert("waiting", flow=flow, kind=AlertKind.DEAD_LETTERS, severity=Severity.WARNING)
    client = client_for(personas["admin"])
    assert listed(client.get(LIST, {"severity": "warning"})) == ["waiting"]
    assert listed(client.get(LIST, {"kind": "circuit_open"})) == [
        "Deliveries to Bank SFTP are paused: its circuit breaker opened"
    ]
    response = client.get(LIST, {"kind": "flow_late"})
    assert listed(response) == [] and response.context["is_filtered"]
    html = response.content.decode()
    assert "No alerts match these filters" in html and "Clear filters" in html


def test_pages(client_for, personas, settings):
    settings.PAGINATE_BY = 2
    flow = make_flow("Orders")
    for n in range(5):
        make_alert(f"alert {n}", flow=flow, minutes_ago=n)
    client = client_for(personas["admin"])
    first = client.get(LIST)
    assert listed(first) == ["alert 0", "alert 1"]
    assert "Page 1 of 3" in first.content.decode()
    assert listed(client.get(LIST, {"page": 3})) == ["alert 4"]
    assert listed(client.get(LIST, {"page": 99})) == ["alert 4"]  # past the end: the last page
    # The filters travel with the page links.
    filtered = client.get(LIST, {"severity": "critical", "page": 2}).content.decode()
    assert 'href="?severity=critical&amp;page=3"' in filtered


def test_empty_state(client_for, personas):
    make_flow("Orders")
    response = client_for(personas["engineer"]).get(LIST)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="empty-state"' in html
    assert "No alerts: nothing needs a look right now" in html
    assert 'data-testid="alert-table"' not in html


def test_detail_shows_the_timeline_and_where_to_look(client_for, personas):
    flow = failing_flow("Customers to ERP", owner=personas["engineer"], error="ERP refused the login")
    evaluate()
    alert = Alert.objects.get(flow=flow)
    html = client_for(personas["engineer"]).get(alert.get_absolute_url()).content.decode()
    assert "The last run of Customers to ERP failed" in html
    assert "ERP refused the login" in html  # the detail text
    assert f'href="{flow.get_absolute_url()}"' in html
    assert f"?flow={flow.pk}" in html  # its runs
    assert 'data-testid="timeline"' in html and "Opened" in html and "Last seen" in html
    assert 'data-testid="timeline-acknowledged"' not in html


def test_list_query_count_does_not_grow_with_alerts(client_for, personas, django_assert_max_num_queries):
    flows = [make_flow(f"Flow {n}", owner=personas["engineer"]) for n in range(3)]
    connector = paused_connector("ERP REST", owner=personas["engineer"])
    for n in range(20):
        make_alert(f"alert {n}", flow=flows[n % 3], acknowledged_by=personas["admin"], acknowledged_at=timezone.now())
    make_alert("about a connector", connector=connector, kind=AlertKind.CIRCUIT_OPEN)
    client = client_for(personas["engineer"])
    client.get(LIST)  # warm the session and permission caches
    with django_assert_max_num_queries(12):  # 10 today: session, user, permissions, count, page, changeable, badge, …
        response = client.get(LIST)
    assert len(listed(response)) == 21


# --- Menu badge and dashboard ---------------------------------------------------------------


def test_menu_badge_counts_open_alerts_the_person_may_view(personas, two_flows):
    flow_a = two_flows["a"].flow
    make_alert("acknowledged", flow=flow_a, acknowledged_at=timezone.now())
    make_alert("resolved", flow=flow_a, resolved_at=timezone.now())
    worker_alert()
    assert badge(personas["engineer"]) == 2  # flow A's open alert and the worker's
    assert badge(personas["viewer"]) == 2  # both flows' open alerts, no worker's
    assert badge(personas["admin"]) == 3
    assert badge(personas["steward"]) == "hidden"
    Alert.objects.update(resolved_at=timezone.now())
    assert badge(personas["admin"]) is None  # nothing open: no badge


def test_menu_entry_is_marked_current_on_alert_pages(personas, two_flows):
    for view_name in ("alert_list", "alert_detail"):
        menu = menu_for(personas["engineer"], view_name)
        assert next(item for item in menu if item["label"] == "Alerts")["active"]


def test_dashboard_tile_counts_open_and_critical_alerts(client_for, personas, two_flows):
    make_alert("a warning", flow=two_flows["a"].flow, severity=Severity.WARNING)
    make_alert("seen", flow=two_flows["a"].flow, acknowledged_at=timezone.now())
    response = client_for(personas["engineer"]).get(HOME)
    assert response.context["alerts"] == {"open": 2, "critical": 1}
    html = response.content.decode()
    assert 'data-testid="stat-alerts">2<' in html
    assert "1 critical" in html
    assert f'href="{LIST}"' in html
    panel = client_for(personas["engineer"]).get(reverse("home_health")).content.decode()
    assert 'data-testid="alerts-tile"' in panel


def test_dashboard_tile_when_nothing_is_open(client_for, personas):
    html = client_for(personas["viewer"]).get(HOME).content.decode()
    assert 'data-testid="alerts-tile"' in html and "Nothing needs a look" in html
    assert 'data-testid="stat-alerts-critical"' not in html
