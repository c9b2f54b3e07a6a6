"""Run pages: the list and its filters, a run's counts and progress polling, record
outcomes paged by id in bounded queries, the dry-run report, and one outcome."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.choices import OutcomeStatus, RunStatus, Stage
from integrations.models import Run
from integrations.tests.pages import make_flow, make_outcomes, make_run

pytestmark = pytest.mark.django_db

LIST = reverse("integrations:run_list")


def progress_url(run):
    return reverse("integrations:run_progress", args=[run.pk])


def test_runs_are_listed_for_the_flows_a_person_may_view(client_for, personas):
    mine = make_flow("Mine", owner=personas["engineer"], stage=Stage.LIVE)
    theirs = make_flow("Theirs", stage=Stage.LIVE)
    own_run, other_run = make_run(mine, read=3), make_run(theirs, read=4)
    rows = list(client_for(personas["engineer"]).get(LIST).context["table"].data)
    assert rows == [own_run]
    assert client_for(personas["engineer"]).get(other_run.get_absolute_url()).status_code == 404
    assert set(client_for(personas["viewer"]).get(LIST).context["table"].data) == {own_run, other_run}
    assert client_for(personas["nobody"]).get(own_run.get_absolute_url()).status_code == 404


def test_filters_by_flow_status_stage_and_date(client_for, personas, settings):
    settings.PAGINATE_BY = 3
    a, b = make_flow("Alpha", stage=Stage.LIVE), make_flow("Beta", stage=Stage.TEST)
    old = make_run(a, status=RunStatus.FAILED)
    Run.objects.filter(pk=old.pk).update(queued_at=timezone.now() - timedelta(days=10))
    for _ in range(4):
        make_run(a, status=RunStatus.SUCCEEDED)
    dry = make_run(b, status=RunStatus.SUCCEEDED)
    client = client_for(personas["auditor"])

    def shown(**params):
        return list(client.get(LIST, params).context["table"].data)

    assert shown(flow=b.pk) == [dry]
    assert shown(status="failed") == [old]
    assert shown(stage="test") == [dry]
    assert old not in shown(since=(timezone.now() - timedelta(days=1)).date().isoformat())
    assert shown(until=(timezone.now() - timedelta(days=5)).date().isoformat()) == [old]
    page_two = client.get(LIST, {"page": 2}).context["table"]
    assert page_two.page.number == 2 and len(page_two.page.object_list) == 3


def test_a_running_run_polls_and_a_finished_one_does_not(client_for, personas):
    flow = make_flow(stage=Stage.LIVE)
    running = make_run(flow, status=RunStatus.DELIVERING, read=10, created=4, quarantined=1)
    client = client_for(personas["admin"])
    html = client.get(running.get_absolute_url()).content.decode()
    assert f'hx-get="{progress_url(running)}"' in html and 'hx-trigger="every 2s"' in html
    assert 'aria-valuenow="50"' in html  # 5 of 10 settled
    partial = client.get(progress_url(running), HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and b"<html" not in partial.content and b"every 2s" in partial.content

    Run.objects.filter(pk=running.pk).update(status=RunStatus.PARTIAL, finished_at=timezone.now())
    finished = client.get(progress_url(running), HTTP_HX_REQUEST="true")
    assert finished["HX-Refresh"] == "true"  # reload once to show the outcomes; the new page does not poll
    html = client.get(running.get_absolute_url()).content.decode()
    assert "every 2s" not in html and 'data-testid="count-created">4<' in html


def test_counts_come_from_the_run_and_viewers_see_no_records(client_for, personas):
    flow = make_flow(stage=Stage.LIVE)
    run = make_run(flow, read=3, created=2, dead_lettered=1)
    make_outcomes(run, 1, status=OutcomeStatus.DEAD, error_class="TransientError", error_message="timed out")
    viewer = client_for(personas["viewer"]).get(run.get_absolute_url()).content.decode()
    assert 'data-testid="count-created">2<' in viewer
    assert "outcomes-hidden" in viewer and "timed out" not in viewer and "Person" not in viewer
    auditor = client_for(personas["auditor"]).get(run.get_absolute_url()).content.decode()
    assert "TransientError" in auditor and "timed out" in auditor


def test_outcomes_page_by_id_with_bounded_queries(client_for, personas, django_assert_max_num_queries):
    flow = make_flow(stage=Stage.LIVE)
    run = make_run(flow, read=230, created=200, dead_lettered=30)
    make_outcomes(run, 200, status=OutcomeStatus.DELIVERED, action="created", remote_id="R-1")
    make_outcomes(run, 30, status=OutcomeStatus.DEAD, error_class="TransientError", error_message="503")
    client = client_for(personas["admin"])
    seen, after, pages = [], None, 0
    while True:
        params = {"after": after} if after else {}
        with django_assert_max_num_queries(14) as captured:
            response = client.get(run.get_absolute_url(), params)
        outcome_sql = [q["sql"].upper() for q in captured.captured_queries if "RECORDOUTCOME" in q["sql"].upper()]
        assert len(outcome_sql) == 1  # one query for the page, whatever the run's size
        assert "OFFSET" not in outcome_sql[0] and "COUNT(" not in outcome_sql[0]
        page = response.context["page"]
        seen += [row.pk for row in page.rows]
        pages += 1
        after = page.next_after
        if after is None:
            break
    assert pages == 5 and len(seen) == 230 and seen == sorted(seen)
    dead = client.get(run.get_absolute_url(), {"status": "dead"}).context["page"]
    assert len(dead.rows) == 30 and all(r.status == OutcomeStatus.DEAD for r in dead.rows)


def test_dry_run_report_shows_what_would_change(client_for, personas):
    flow = make_flow(stage=Stage.TEST)
    run = make_run(flow, read=2, planned=1, unchanged=1)
    make_outcomes(run, 1, status=OutcomeStatus.PLANNED, action="updated", diff={"email": ["old@x.org", "new@x.org"]})
    make_outcomes(run, 1, status=OutcomeStatus.PLANNED, action="unchanged", diff={})
    html = client_for(personas["admin"]).get(run.get_absolute_url()).content.decode()
    assert "Dry-run report" in html and ">Update</span>" in html and ">Leave as is</span>" in html
    assert "old@x.org" in html and "new@x.org" in html and "no change" in html


def test_counts_shown_fit_the_kind_of_run(client_for, personas):
    flow = make_flow(stage=Stage.LIVE)
    client = client_for(personas["admin"])
    live = make_run(flow, read=3, created=2, failed=1)
    html = client.get(live.get_absolute_url()).content.decode()
    assert 'data-testid="count-failed">1<' in html and "refused by a target (quarantined)" in html
    assert 'data-testid="count-planned"' not in html  # only dry runs plan
    dry = make_run(flow, stage=Stage.TEST, status=RunStatus.SUCCEEDED, read=3, planned=2, unchanged=1)
    html = client.get(dry.get_absolute_url()).content.decode()
    assert 'data-testid="count-planned">2<' in html and 'data-testid="count-unchanged">1<' in html
    for written in ("created", "updated", "failed", "dead_lettered"):  # a dry run writes nothing
        assert f'data-testid="count-{written}"' not in html


def test_a_run_with_problems_says_replayed_records_move_to_their_replay(client_for, personas):
    flow = make_flow(stage=Stage.LIVE)
    client = client_for(personas["admin"])
    note = 'data-testid="replay-note"'
    assert note in client.get(make_run(flow, read=3, created=2, failed=1).get_absolute_url()).content.decode()
    assert note in client.get(make_run(flow, read=1, dead_lettered=1).get_absolute_url()).content.decode()
    clean = make_run(flow, status=RunStatus.SUCCEEDED, read=2, created=2)
    assert note not in client.get(clean.get_absolute_url()).content.decode()
    dry = make_run(flow, stage=Stage.TEST, read=2, planned=1, quarantined=1)
    assert note not in client.get(dry.get_absolute_url()).content.decode()


def test_outcome_detail_shows_payload_mapped_error_and_actions(client_for, personas):
    flow = make_flow(stage=Stage.LIVE, owner=personas["engineer"])
    run = make_run(flow)
    (outcome,) = make_outcomes(
        run, 1, status=OutcomeStatus.DEAD, attempts=5, error_class="TransientError", error_message="503 from ERP"
    )
    html = client_for(personas["engineer"]).get(outcome.get_absolute_url()).content.decode()
    for text in ("TransientError", "503 from ERP", 'data-testid="payload"', 'data-testid="mapped"', "5 of 5"):
        assert text in html
    assert 'data-testid="replay-one"' in html and "discard-dialog" in html
    auditor = client_for(personas["auditor"]).get(outcome.get_absolute_url()).content.decode()
    assert "TransientError" in auditor and 'data-testid="replay-one"' not in auditor
    assert client_for(personas["viewer"]).get(outcome.get_absolute_url()).status_code == 404


def test_a_tab_of_two_statuses_pages_through_both_in_id_order(client_for, personas):
    """The "Waiting" tab reads pending and retrying records one status at a time and merges them."""
    flow = make_flow(stage=Stage.LIVE)
    run = make_run(flow, read=130)
    for n in range(130):  # interleaved ids; a few delivered in between
        make_outcomes(run, 1, status=[OutcomeStatus.PENDING, OutcomeStatus.RETRYING, OutcomeStatus.DELIVERED][n % 3])
    waiting = set(
        run.outcomes.filter(status__in=[OutcomeStatus.PENDING, OutcomeStatus.RETRYING]).values_list("pk", flat=True)
    )
    client = client_for(personas["admin"])
    seen, after = [], None
    while True:
        page = client.get(run.get_absolute_url(), {"status": "waiting", **({"after": after} if after else {})})
        page = page.context["page"]
        seen += [row.pk for row in page.rows]
        after = page.next_after
        if after is None:
            break
    assert seen == sorted(waiting)
