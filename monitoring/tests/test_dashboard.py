"""The home dashboard: integration health per flow for the flows a person may view, real and
permission-restricted numbers, a panel that polls itself, bounded queries, helpful empty states."""

import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from integrations.choices import OutcomeStatus, RunStatus, Stage
from integrations.models import Run
from integrations.tests.factories import SystemFactory
from integrations.tests.pages import make_flow, make_outcomes, make_run
from masterdata.choices import CandidateStatus
from masterdata.tests.factories import candidate_for, customer_pair, golden_with_sources
from monitoring.choices import Component
from monitoring.models import Heartbeat
from monitoring.services import integration_health

pytestmark = pytest.mark.django_db
HOME = reverse("home")
PANEL = reverse("home_health")
SERIAL = itertools.count(1)


def shown(response) -> list[str]:
    """The flows the dashboard lists, by name."""
    return [item.flow.name for item in response.context["health"].flows]


# --- Who sees what ------------------------------------------------------------------------------


def test_anonymous_goes_to_login(client):
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    response = client.get(PANEL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_poll_after_signing_out_reloads_the_page_instead_of_swapping_in_the_login_form(client):
    response = client.get(PANEL, headers={"HX-Request": "true"})
    assert (response.status_code, response["HX-Refresh"], response.content) == (200, "true", b"")


def test_counts_are_what_the_user_may_see(client_for, personas):
    visible = SystemFactory()
    SystemFactory.create_batch(2)
    Heartbeat.beat(Component.WORKER, "worker@a")
    assert client_for(personas["viewer"]).get(HOME).context["system_count"] == 3
    assign_perm("view_system", personas["nobody"], visible)
    response = client_for(personas["nobody"]).get(HOME)
    assert response.context["system_count"] == 1
    assert response.context["workers_alive"] == 1


def test_someone_granted_no_flow_sees_no_flow_name_or_count(client_for, personas):
    """Object grants only (no role): nothing of the flows, their runs or their records leaks."""
    flow = make_flow("Secret payroll export", stage=Stage.LIVE)
    run = make_run(flow, status=RunStatus.PARTIAL, read=7777, created=6666, quarantined=1111)
    make_outcomes(run, 3, status=OutcomeStatus.DEAD)
    response = client_for(personas["nobody"]).get(HOME)
    html = response.content.decode()
    health = response.context["health"]
    assert (health.flow_count, health.flows, health.chart, health.waiting) == (0, [], None, None)
    for secret in ("Secret payroll export", "7,777", "6,666", "1,111", "Dead-letter queue"):
        assert secret not in html
    assert "No flows shared with you" in html and "Ask an administrator" in html


def test_someone_granted_one_flow_sees_that_flow_but_not_its_runs_without_the_role(client_for, personas):
    """A grant on a flow shows the flow; its runs need the role's ``view_run`` (as on the run pages)."""
    granted = make_flow("Shop orders to ERP", stage=Stage.LIVE)
    make_run(granted, status=RunStatus.SUCCEEDED, read=4242, created=4242)
    make_flow("Payroll to bank", stage=Stage.LIVE)
    assign_perm("view_flow", personas["nobody"], granted)
    response = client_for(personas["nobody"]).get(HOME)
    html = response.content.decode()
    assert shown(response) == ["Shop orders to ERP"] and response.context["health"].flow_count == 1
    assert "Runs are not shared with your role" in html
    assert "4,242" not in html and "Payroll to bank" not in html and 'data-testid="stat-delivered"' not in html


def test_a_dry_runs_quarantined_records_are_not_waiting(client_for, personas):
    # The dead-letter queue leaves dry runs out (nothing to replay: they wrote nothing); so does its count.
    flow = make_flow("Shop orders to ERP", stage=Stage.TEST)
    run = make_run(flow, status=RunStatus.PARTIAL, read=3, quarantined=3)
    make_outcomes(run, 3, OutcomeStatus.QUARANTINED, dry_run=True)
    make_outcomes(make_run(flow, status=RunStatus.PARTIAL, stage=Stage.LIVE), 1, OutcomeStatus.DEAD)

    health = client_for(personas["admin"]).get(HOME).context["health"]

    assert health.waiting == 1 and health.flows[0].waiting == 1


def test_an_engineer_sees_only_the_flows_granted_to_them(client_for, personas):
    engineer = personas["engineer"]
    mine = make_flow("Shop orders to ERP", owner=engineer, stage=Stage.LIVE)
    theirs = make_flow("Payroll to bank", stage=Stage.LIVE)
    make_outcomes(make_run(mine, status=RunStatus.PARTIAL, read=5, created=4, failed=1), 1, OutcomeStatus.QUARANTINED)
    make_outcomes(make_run(theirs, status=RunStatus.FAILED, read=900, created=800, dead_lettered=100), 9)
    response = client_for(engineer).get(HOME)
    health = response.context["health"]
    assert shown(response) == ["Shop orders to ERP"]
    assert (health.flow_count, health.day.delivered, health.day.quarantined, health.day.dead_lettered) == (1, 4, 1, 0)
    assert health.waiting == 1
    assert [s["total"] for s in health.chart["series"]] == [0, 1, 0]  # their failed run is not in the chart
    assert "Payroll to bank" not in response.content.decode()


def test_a_viewer_sees_every_flow_and_its_runs_but_no_records_or_queue(client_for, personas):
    """Viewers hold ``view_flow`` and ``view_run`` by role (docs/roles.md), not ``view_recordoutcome``."""
    flow = make_flow("CRM customers", stage=Stage.LIVE)
    make_outcomes(make_run(flow, status=RunStatus.PARTIAL, read=3, created=2, quarantined=1), 1, "quarantined")
    response = client_for(personas["viewer"]).get(HOME)
    health = response.context["health"]
    html = response.content.decode()
    assert shown(response) == ["CRM customers"] and health.day.delivered == 2
    assert health.waiting is None and response.context["duplicates"] is None
    assert 'data-testid="stat-waiting"' not in html and reverse("integrations:deadletter_list") not in html
    assert 'data-testid="stat-duplicates"' not in html


def test_stewards_see_open_duplicates_with_a_link_to_the_review_queue(client_for, personas):
    customer_pair()
    decided = customer_pair(SystemFactory(), SystemFactory(), score=0.8)[2]
    decided.status = CandidateStatus.NOT_DUPLICATE
    decided.save()
    response = client_for(personas["steward"]).get(HOME)
    html = response.content.decode()
    assert response.context["duplicates"]["count"] == 1
    assert 'data-testid="stat-duplicates">1<' in html
    assert reverse("masterdata:candidate_list") in html
    assert response.context["health"].flow_count == 0  # stewards hold no flow permission


# --- What it shows ----------------------------------------------------------------------------


def test_each_flow_shows_its_last_run_and_its_last_24_hours(client_for, personas):
    crm = make_flow("CRM customers", stage=Stage.LIVE)
    old = make_run(crm, status=RunStatus.SUCCEEDED, created=500)
    Run.objects.filter(pk=old.pk).update(queued_at=timezone.now() - timedelta(hours=25))  # outside the window
    make_run(crm, status=RunStatus.SUCCEEDED, read=10, created=6, updated=2, unchanged=2)
    make_run(crm, stage=Stage.TEST, status=RunStatus.SUCCEEDED, read=10, planned=4, unchanged=6)  # a dry run
    last = make_run(crm, status=RunStatus.PARTIAL, read=12, created=3, updated=4, unchanged=1, quarantined=2, failed=1)
    make_outcomes(last, 3, status=OutcomeStatus.QUARANTINED)
    make_outcomes(last, 2, status=OutcomeStatus.DEAD)
    make_outcomes(last, 4, status=OutcomeStatus.DELIVERED)
    idle = make_flow("WMS stock", stage=Stage.LIVE)
    response = client_for(personas["admin"]).get(HOME)
    crm_row, idle_row = response.context["health"].flows
    assert crm_row.flow == crm and crm_row.last_run == last and crm_row.needs_attention
    assert (crm_row.last.delivered, crm_row.last.quarantined, crm_row.last.dead_lettered) == (8, 3, 0)
    assert (crm_row.day.delivered, crm_row.day.quarantined, crm_row.day.dead_lettered) == (18, 3, 0)  # no dry run
    assert crm_row.waiting == 5
    assert (idle_row.flow, idle_row.last_run, idle_row.waiting) == (idle, None, 0)
    html = response.content.decode()
    assert 'data-testid="stat-delivered">18<' in html and 'data-testid="stat-waiting">5<' in html
    assert f"{reverse('integrations:deadletter_list')}?flow={crm.pk}" in html
    assert "Finished with problems" in html and "No run yet" in html


def test_flows_whose_last_run_failed_come_first(client_for, personas):
    names = ["Alpha", "Bravo", "Charlie", "Delta"]
    flows = {name: make_flow(name, stage=Stage.LIVE) for name in names}
    make_run(flows["Alpha"], status=RunStatus.SUCCEEDED)
    make_run(flows["Bravo"], status=RunStatus.FAILED)
    make_run(flows["Charlie"], status=RunStatus.PARTIAL)
    make_run(flows["Charlie"], status=RunStatus.SUCCEEDED)  # its last run went well again
    assert shown(client_for(personas["admin"]).get(HOME)) == ["Bravo", "Charlie", "Alpha", "Delta"]


def test_the_chart_counts_finished_runs_per_hour_by_how_they_ended(personas):
    flow = make_flow(stage=Stage.LIVE)
    now = timezone.now()
    for hours_ago, status in [(0, "succeeded"), (0, "succeeded"), (0, "failed"), (3, "partial"), (30, "failed")]:
        run = make_run(flow, status=status)
        Run.objects.filter(pk=run.pk).update(queued_at=now - timedelta(hours=hours_ago))
    make_run(flow, status=RunStatus.DELIVERING)  # still going: not on the chart yet
    chart = integration_health(personas["admin"], now=now).chart
    counts = {s["key"]: s["counts"] for s in chart["series"]}
    assert len(chart["hours"]) == 24 and chart["hours"][-1] <= now.timestamp() < chart["hours"][-1] + 3600
    assert (counts["succeeded"][-1], counts["failed"][-1], counts["partial"][-4]) == (2, 1, 1)
    assert chart["total"] == 4  # the run of 30 hours ago is outside the window


def test_the_panel_polls_itself_and_the_page_loads_the_chart_from_static_files(client_for, personas):
    flow = make_flow(stage=Stage.LIVE)
    make_run(flow, status=RunStatus.SUCCEEDED, created=1)
    client = client_for(personas["admin"])
    page = client.get(HOME).content.decode()
    panel = client.get(PANEL, headers={"HX-Request": "true"})
    assert panel.templates[0].name == "monitoring/includes/health_panel.html"
    html = panel.content.decode()
    assert f'hx-get="{PANEL}"' in html and 'hx-trigger="every 10s"' in html and 'hx-swap="outerHTML"' in html
    assert 'id="runs-chart-data" type="application/json"' in html  # data, not a script: the CSP allows no inline one
    assert "<body" not in html and "vendor/uplot/uPlot" not in html
    assert "vendor/uplot/uPlot" in page and "js/dashboard" in page


def test_empty_state_invites_engineers_to_add_the_first_system(client_for, personas):
    response = client_for(personas["engineer"]).get(HOME)
    assert b"Add your first system" in response.content
    assert reverse("integrations:system_add").encode() in response.content


def test_empty_state_invites_engineers_with_systems_to_add_the_first_flow(client_for, personas):
    SystemFactory(name="Tryton ERP")
    response = client_for(personas["engineer"]).get(HOME)
    assert b"No flows yet" in response.content and b"Add your first flow" in response.content
    assert reverse("integrations:flow_add").encode() in response.content


def test_empty_state_for_readers_says_whom_to_ask(client_for, personas):
    response = client_for(personas["viewer"]).get(HOME)
    assert b"Add your first system" not in response.content
    assert b"Ask an administrator" in response.content


def test_admin_site_is_for_administrators_only(client_for, personas):
    assert client_for(personas["admin"]).get("/admin/").status_code == 200
    for name in ("engineer", "steward", "auditor", "viewer", "nobody"):
        response = client_for(personas[name]).get("/admin/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"], name


# --- Bounded queries ----------------------------------------------------------------------------


def populate(flows: int, runs_per_flow: int, owner) -> None:
    for _ in range(flows):
        flow = make_flow(f"Flow {next(SERIAL):03d}", stage=Stage.LIVE, owner=owner)
        for m in range(runs_per_flow):
            run = make_run(flow, status=[RunStatus.SUCCEEDED, RunStatus.PARTIAL][m % 2], read=5, created=4, failed=1)
        make_outcomes(run, 2, status=OutcomeStatus.QUARANTINED)
    golden_with_sources()
    candidate_for(golden_with_sources(), golden_with_sources())


@pytest.mark.parametrize("persona", ["admin", "engineer"])
def test_the_number_of_queries_does_not_grow_with_flows_or_runs(client_for, personas, persona):
    """Role-wide access (admin) and access through object grants (engineer) alike."""
    user = personas[persona]
    client = client_for(user)
    populate(2, 2, owner=user)
    client.get(HOME)  # warm caches that are not the dashboard's (sessions, content types)
    with CaptureQueriesContext(connection) as few:
        assert client.get(HOME).status_code == 200
    populate(30, 12, owner=user)
    with CaptureQueriesContext(connection) as many:
        response = client.get(HOME)
    assert len(response.context["health"].flows) == 10 and response.context["health"].flow_count == 32
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    assert len(many) <= 25


def test_the_polled_panel_stays_within_a_query_budget(client_for, personas, django_assert_max_num_queries):
    populate(20, 10, owner=None)
    client = client_for(personas["auditor"])
    client.get(PANEL)
    with django_assert_max_num_queries(20):
        client.get(PANEL, headers={"HX-Request": "true"})
