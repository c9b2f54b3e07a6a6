"""/api/v1/flows/, runs/ and outcomes/: the same permissions as the pages, rules validated
per position, run (202) and promote, cursor-paged outcomes, replay and discard."""

import pytest
from auditlog.models import LogEntry

from conftest import api_as
from integrations.choices import OutcomeStatus, Stage
from integrations.models import Flow, RecordOutcome, Run
from integrations.tests.pages import make_flow, make_outcomes, make_run, rest_connector, webhook_connector

pytestmark = pytest.mark.django_db

FLOWS, RUNS, OUTCOMES = "/api/v1/flows/", "/api/v1/runs/", "/api/v1/outcomes/"


def flow_body(source, target, **extra):
    return {
        "name": "Shop customers",
        "entity": "customer",
        "source": source.pk,
        "targets": [target.pk],
        "trigger": "push",
        "mapping": [{"target": "name", "op": "copy", "from": "last_name"}],
        **extra,
    }


def test_engineer_creates_a_flow_and_is_granted_it(personas):
    engineer = personas["engineer"]
    source, target = webhook_connector(owner=engineer), rest_connector(owner=engineer)
    response = api_as(engineer).post(FLOWS, flow_body(source, target), format="json")
    assert response.status_code == 201, response.json()
    flow = Flow.objects.get(pk=response.json()["id"])
    assert response.json()["stage"] == "draft" and engineer.has_perm("integrations.change_flow", flow)
    assert api_as(personas["viewer"]).post(FLOWS, flow_body(source, target, name="x"), format="json").status_code == 403


def test_rules_are_validated_per_position(personas):
    engineer = personas["engineer"]
    source, target = webhook_connector(owner=engineer), rest_connector(owner=engineer)
    body = flow_body(
        source, target, mapping=[{"target": "a", "op": "copy", "from": "x"}, {"target": "b", "op": "nope"}]
    )
    errors = api_as(engineer).post(FLOWS, body, format="json").json()
    assert "nope" in errors["mapping"]["1"]["op"][0]
    body = flow_body(source, rest_connector("Not mine"))
    errors = api_as(engineer).post(FLOWS, body, format="json").json()
    assert "targets" in errors


def test_the_models_own_rules_and_the_route_are_checked(personas):
    engineer = personas["engineer"]
    source, target = webhook_connector(owner=engineer), rest_connector(owner=engineer)
    errors = api_as(engineer).post(FLOWS, flow_body(source, target, trigger="manual"), format="json").json()
    assert errors == {"trigger": ["A webhook source pushes its records: use the inbound push trigger."]}
    body = flow_body(target, rest_connector("Other", owner=engineer), trigger="schedule")
    errors = api_as(engineer).post(FLOWS, body, format="json").json()
    assert errors == {"schedule_minutes": ["Say how often the flow runs."]}
    errors = api_as(engineer).post(FLOWS, flow_body(target, target, trigger="manual"), format="json").json()
    assert errors == {"targets": ["The source cannot also be a target."]}


def test_run_answers_202_with_the_run_and_is_audited(personas):
    flow = make_flow(stage=Stage.TEST, owner=personas["engineer"])
    response = api_as(personas["engineer"]).post(f"{FLOWS}{flow.pk}/run/")
    assert response.status_code == 202
    run = Run.objects.get()
    assert response.json()["run"] == run.pk and response.json()["url"].endswith(f"/api/v1/runs/{run.pk}/")
    entry = LogEntry.objects.get_for_object(flow).get(additional_data__action="run")
    assert entry.additional_data["via"] == "api" and entry.actor == personas["engineer"]


def test_run_of_a_draft_is_400_with_the_reason(personas):
    flow = make_flow(owner=personas["engineer"])
    response = api_as(personas["engineer"]).post(f"{FLOWS}{flow.pk}/run/")
    assert response.status_code == 400 and "test, pilot or live" in response.json()["detail"]


def test_promote_and_refusals(personas):
    flow = make_flow(owner=personas["engineer"])
    client = api_as(personas["engineer"])
    assert client.post(f"{FLOWS}{flow.pk}/promote/", {"stage": "live"}, format="json").status_code == 400
    response = client.post(f"{FLOWS}{flow.pk}/promote/", {"stage": "test"}, format="json")
    assert response.status_code == 200 and response.json()["stage"] == "test"
    assert LogEntry.objects.get_for_object(flow).get(additional_data__action="promote").changes == {
        "stage": ["draft", "test"]
    }
    assert api_as(personas["viewer"]).post(f"{FLOWS}{flow.pk}/promote/", {"stage": "draft"}).status_code == 404
    assert api_as(personas["auditor"]).post(f"{FLOWS}{flow.pk}/run/").status_code == 404
    flow.refresh_from_db()
    assert flow.stage == "test" and not Run.objects.exists()


def test_stage_cannot_be_written_directly(personas):
    flow = make_flow(owner=personas["engineer"])
    api_as(personas["engineer"]).patch(f"{FLOWS}{flow.pk}/", {"stage": "live"}, format="json")
    flow.refresh_from_db()
    assert flow.stage == "draft"


def test_preview(personas):
    flow = make_flow(owner=personas["engineer"], entity="sales_order")
    record = {"id": "O-1", "last_name": "Lovelace"}
    response = api_as(personas["engineer"]).post(f"{FLOWS}{flow.pk}/preview/", {"record": record}, format="json")
    assert response.status_code == 200 and response.json()["mapped"] == {"name": "Lovelace"}


def test_runs_are_restricted_and_filterable(personas):
    mine = make_flow("Mine", owner=personas["engineer"], stage=Stage.LIVE)
    theirs = make_flow("Theirs", stage=Stage.LIVE)
    own_run, other_run = make_run(mine, read=3, status="failed"), make_run(theirs)
    assert [r["id"] for r in api_as(personas["engineer"]).get(RUNS).json()["results"]] == [own_run.pk]
    assert api_as(personas["engineer"]).get(f"{RUNS}{other_run.pk}/").status_code == 404
    viewer = api_as(personas["viewer"])
    assert {r["id"] for r in viewer.get(RUNS).json()["results"]} == {own_run.pk, other_run.pk}
    assert [r["id"] for r in viewer.get(RUNS, {"status": "failed"}).json()["results"]] == [own_run.pk]
    assert [r["id"] for r in viewer.get(RUNS, {"flow": theirs.pk}).json()["results"]] == [other_run.pk]
    assert viewer.get(f"{RUNS}{own_run.pk}/").json()["read"] == 3
    assert viewer.post(RUNS, {}).status_code == 405


def test_outcomes_use_a_cursor_and_bounded_queries(personas, django_assert_max_num_queries):
    flow = make_flow(stage=Stage.LIVE)
    run = make_run(flow)
    make_outcomes(run, 250, status=OutcomeStatus.DELIVERED)
    client = api_as(personas["admin"])
    seen, url = [], f"{OUTCOMES}?run={run.pk}&page_size=100"
    while url:
        with django_assert_max_num_queries(6) as captured:
            body = client.get(url).json()
        assert all("OFFSET" not in q["sql"].upper() and "COUNT(" not in q["sql"].upper() for q in captured)
        assert "count" not in body
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert len(seen) == 250 and seen == sorted(seen)


def test_outcomes_filtered_by_run_and_status_are_that_runs_rows_of_those_statuses(personas):
    """The run and status filters read one status at a time from the run's index (config.ordering):
    the same rows as plain equality, and still only what the person may see."""
    flow = make_flow(stage=Stage.LIVE)
    run, other = make_run(flow), make_run(flow)
    for status in (OutcomeStatus.DELIVERED, OutcomeStatus.DEAD, OutcomeStatus.QUARANTINED) * 3:
        make_outcomes(run, 2, status=status)
        make_outcomes(other, 1, status=status)
    admin = api_as(personas["admin"])

    def ids(**params):
        return [row["id"] for row in admin.get(OUTCOMES, {"page_size": 1000, **params}).json()["results"]]

    def expected(*statuses):
        return list(run.outcomes.filter(status__in=statuses).order_by("pk").values_list("pk", flat=True))

    assert ids(run=run.pk, status="dead") == expected(OutcomeStatus.DEAD)
    assert ids(run=run.pk, status=["dead", "quarantined"]) == expected(OutcomeStatus.DEAD, OutcomeStatus.QUARANTINED)
    assert ids(run=run.pk) == expected(*OutcomeStatus.values)
    assert set(ids(status="dead")) == set(expected(OutcomeStatus.DEAD)) | set(
        other.outcomes.filter(status=OutcomeStatus.DEAD).values_list("pk", flat=True)
    )
    assert admin.get(OUTCOMES, {"run": "seven"}).status_code == 400
    engineer = api_as(personas["engineer"])  # not the flow's owner: no rows, not even by run
    assert engineer.get(OUTCOMES, {"run": run.pk, "status": "dead"}).json()["results"] == []


def test_outcomes_are_hidden_from_viewers_and_other_engineers(personas):
    flow = make_flow(stage=Stage.LIVE)
    (outcome,) = make_outcomes(make_run(flow), 1, status=OutcomeStatus.DEAD)
    assert api_as(personas["viewer"]).get(OUTCOMES).status_code == 403
    assert api_as(personas["engineer"]).get(OUTCOMES).json()["results"] == []
    assert api_as(personas["engineer"]).get(f"{OUTCOMES}{outcome.pk}/").status_code == 404
    body = api_as(personas["auditor"]).get(f"{OUTCOMES}{outcome.pk}/").json()
    assert body["payload"]["id"] == outcome.external_id


def test_replay_and_discard_by_ids(personas):
    flow = make_flow(entity="sales_order", stage=Stage.LIVE, owner=personas["engineer"], mapping=[])
    run = make_run(flow)
    dead = make_outcomes(run, 2, status=OutcomeStatus.DEAD)
    quarantined = make_outcomes(run, 2, status=OutcomeStatus.QUARANTINED)
    client = api_as(personas["engineer"])
    filtered = client.get(OUTCOMES, {"flow": flow.pk, "status": "dead"}).json()["results"]
    assert [o["id"] for o in filtered] == [o.pk for o in dead]

    response = client.post(f"{OUTCOMES}replay/", {"ids": [o.pk for o in dead]}, format="json")
    assert response.status_code == 202
    (replay_id,) = response.json()["runs"]
    assert Run.objects.get(pk=replay_id).trigger == "replay"

    ids = [o.pk for o in quarantined]
    assert client.post(f"{OUTCOMES}discard/", {"ids": ids}, format="json").json() == {
        "reason": ["This field is required."]
    }
    response = client.post(f"{OUTCOMES}discard/", {"ids": ids, "reason": "duplicates"}, format="json")
    assert response.json() == {"discarded": 2}
    assert set(RecordOutcome.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"discarded"}
    actions = set(LogEntry.objects.get_for_object(flow).values_list("additional_data__action", flat=True))
    assert {"replay", "discard"} <= actions

    assert api_as(personas["auditor"]).post(f"{OUTCOMES}replay/", {"ids": ids}, format="json").status_code == 404
    other = make_outcomes(make_run(make_flow("Other", entity="sales_order", stage=Stage.LIVE)), 1)
    response = client.post(f"{OUTCOMES}replay/", {"ids": [other[0].pk]}, format="json")
    assert response.status_code == 404


def test_schema_documents_the_new_endpoints(client_for, personas):
    paths = client_for(personas["viewer"]).get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    for path in ("/api/v1/connectors/{id}/test/", "/api/v1/flows/{id}/run/", "/api/v1/flows/{id}/promote/"):
        assert "post" in paths[path]
    assert "post" in paths["/api/v1/outcomes/replay/"] and "post" in paths["/api/v1/outcomes/discard/"]
    assert "get" in paths["/api/v1/runs/"]
