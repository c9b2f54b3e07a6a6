"""/api/v1/reconciliations/: the same choke point as the pages (404 for reconciliations of connectors
the caller may not view, 403 without the role's permission), filters, starting one (201, audit event,
field errors, 403 without change on the target, 409 while one runs), accepting the deletions one found
(200, the listed deliveries forgotten, audit event, 403, 409 with the reason), bounded queries, the schema."""

import pytest
from auditlog.models import LogEntry
from guardian.shortcuts import assign_perm
from rest_framework.test import APIClient

from accounts.tokens import create_token
from conftest import api_as
from integrations.choices import ReconciliationStatus
from integrations.models import Delivery, Reconciliation
from integrations.tests.pages import rest_connector
from integrations.tests.reconciliation_world import gone, sql_target, stored

pytestmark = pytest.mark.django_db
URL = "/api/v1/reconciliations/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def accept(client, reconciliation):
    return client.post(f"{URL}{reconciliation.pk}/accept/")


def delivered(connector) -> list[str]:
    return sorted(Delivery.objects.filter(target=connector).values_list("subject", flat=True))


def start(client, target, entity="customer"):
    return client.post(URL, {"target": target.pk, "entity": entity}, format="json")


@pytest.fixture
def two_targets(tmp_path, personas):
    """Connector A granted to the engineer (as its creator), B not; one done reconciliation of each."""
    a = sql_target(tmp_path, "Warehouse DB", owner=personas["engineer"])
    b = sql_target(tmp_path, "Payroll DB")
    return {"a": a, "b": b, "ra": stored(a, **gone("C-2"), delivered=2, present=1), "rb": stored(b, delivered=2)}


def test_anonymous_is_refused(two_targets):
    assert APIClient().get(URL).status_code == 401
    assert start(APIClient(), two_targets["a"]).status_code == 401


def test_engineer_sees_only_the_reconciliations_of_the_granted_connector(personas, two_targets):
    client = api_as(personas["engineer"])
    assert ids(client.get(URL)) == [two_targets["ra"].pk]
    assert client.get(f"{URL}{two_targets['ra'].pk}/").status_code == 200
    assert client.get(f"{URL}{two_targets['rb'].pk}/").status_code == 404


def test_viewers_read_all_and_roles_without_the_permission_get_403(personas, two_targets):
    assert set(ids(api_as(personas["viewer"]).get(URL))) == {two_targets["ra"].pk, two_targets["rb"].pk}
    for name in ("steward", "nobody"):
        client = api_as(personas[name])
        assert client.get(URL).status_code == 403, name
        assert client.get(f"{URL}{two_targets['ra'].pk}/").status_code == 403, name
        assert start(client, two_targets["a"]).status_code == 403, name


def test_filters_by_target_entity_and_status(personas, two_targets):
    a, b = two_targets["a"], two_targets["b"]
    orders = stored(a, entity="sales_order", status=ReconciliationStatus.FAILED, error="no table")
    running = stored(b, status=ReconciliationStatus.RUNNING)
    client = api_as(personas["auditor"])
    assert ids(client.get(URL, {"target": b.pk})) == [running.pk, two_targets["rb"].pk]
    assert ids(client.get(URL, {"entity": "sales_order"})) == [orders.pk]
    assert ids(client.get(URL, {"status": "running"})) == [running.pk]
    assert ids(api_as(personas["engineer"]).get(URL, {"target": b.pk})) == []  # not B's, even when asked


def test_the_list_has_counts_and_one_reconciliation_its_missing_records(personas, two_targets):
    client = api_as(personas["engineer"])
    row = client.get(URL).json()["results"][0]
    assert row["missing_count"] == 1 and row["delivered"] == 2 and row["present"] == 1 and "missing" not in row
    assert row["requested_by"] is None and row["finished"] is True and row["status"] == "done"
    assert row["accepted_at"] is None and row["accepted_by"] is None
    assert row["page"].endswith(two_targets["ra"].get_absolute_url())
    detail = client.get(row["url"]).json()
    assert detail["missing"] == [{"key": "C-2", "subject": "1:C-2"}]


def test_engineer_starts_one(personas, two_targets, django_capture_on_commit_callbacks):
    a, engineer = two_targets["a"], personas["engineer"]
    with django_capture_on_commit_callbacks() as queued:
        response = start(api_as(engineer), a)
    assert response.status_code == 201, response.content
    body = response.json()
    started = Reconciliation.objects.get(pk=body["id"])
    assert (started.target, started.entity, started.status) == (a, "customer", ReconciliationStatus.QUEUED)
    assert started.requested_by == engineer and body["requested_by"] == "engineer" and body["finished"] is False
    assert response["Location"] == body["url"] and body["url"].endswith(f"{URL}{started.pk}/")
    assert len(queued) == 1  # the worker's task, after the commit
    entry = LogEntry.objects.get(additional_data__action="reconcile")
    assert entry.actor == engineer and entry.object_pk == str(a.pk)
    assert entry.additional_data["via"] == "api" and entry.additional_data["reconciliation"] == started.pk


def test_field_errors_for_an_unknown_entity_or_a_target_the_caller_may_not_see(personas, two_targets):
    client = api_as(personas["engineer"])
    response = start(client, two_targets["a"], entity="spaceship")
    assert response.status_code == 400 and set(response.json()) == {"entity"}
    response = start(client, two_targets["b"])
    assert response.status_code == 400 and set(response.json()) == {"target"}
    response = client.post(URL, {}, format="json")
    assert response.status_code == 400 and set(response.json()) == {"target", "entity"}
    assert Reconciliation.objects.count() == 2


def test_403_for_callers_who_may_view_but_not_change_the_target(personas, two_targets):
    assert start(api_as(personas["viewer"]), two_targets["a"]).status_code == 403  # the role may not
    assert start(api_as(personas["auditor"]), two_targets["a"]).status_code == 403
    engineer = api_as(personas["engineer"])
    assign_perm("view_connector", personas["engineer"], two_targets["b"])
    response = start(engineer, two_targets["b"])
    assert response.status_code == 403 and "not reconcile it" in response.json()["detail"]
    assert Reconciliation.objects.count() == 2
    assert not LogEntry.objects.filter(additional_data__action="reconcile").exists()


def test_409_while_one_is_queued_and_400_where_the_target_cannot_be_reconciled(personas, two_targets):
    client = api_as(personas["engineer"])
    assert start(client, two_targets["a"]).status_code == 201
    busy = start(client, two_targets["a"])
    assert busy.status_code == 409
    assert busy.json()["detail"] == "A reconciliation of Warehouse DB for customer is already queued."
    rest = rest_connector("ERP REST", owner=personas["engineer"])
    refused = start(client, rest)
    assert refused.status_code == 400
    assert refused.json() == {"target": ["The REST/JSON API adapter cannot list what ERP REST holds."]}
    two_targets["a"].enabled = False
    two_targets["a"].save()
    assert start(client, two_targets["a"], entity="sales_order").json() == {"target": ["Warehouse DB is disabled."]}
    assert Reconciliation.objects.count() == 3


def test_token_authentication(personas, two_targets):
    _token, secret = create_token(personas["engineer"], "script")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert ids(client.get(URL)) == [two_targets["ra"].pk]
    assert start(client, two_targets["a"]).status_code == 201


def test_list_query_count_is_bounded(personas, two_targets, django_assert_max_num_queries):
    for _ in range(30):
        stored(two_targets["a"], requested_by=personas["admin"], **gone("C-1"))
    client = api_as(personas["engineer"])
    with django_assert_max_num_queries(10):  # 7 today, however many rows
        assert len(ids(client.get(URL))) == 31


def test_openapi_schema_documents_reconciliations(client_for, personas):
    schema = client_for(personas["viewer"]).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {URL, f"{URL}{{id}}/"} <= set(paths)
    assert set(paths[URL]) == {"get", "post"} and set(paths[f"{URL}{{id}}/"]) == {"get"}
    assert {"201", "400", "403", "409"} <= set(paths[URL]["post"]["responses"])
    accepting = paths[f"{URL}{{id}}/accept/"]
    assert set(accepting) == {"post"} and "requestBody" not in accepting["post"]
    assert {"200", "403", "409"} <= set(accepting["post"]["responses"])
    assert accepting["post"]["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Refusal"
    }
    parameters = {p["name"] for p in paths[URL]["get"]["parameters"]}
    assert {"target", "entity", "status"} <= parameters
    components = schema.json()["components"]["schemas"]
    assert {"missing", "accepted_at", "accepted_by"} <= set(components["ReconciliationDetail"]["properties"])
    assert set(components["ReconciliationRequest"]["required"]) == {"target", "entity"}


# --- Accepting the deletions ----------------------------------------------------------------


def test_engineer_accepts_the_deletions_and_gets_the_reconciliation(personas, two_targets):
    a, ra, engineer = two_targets["a"], two_targets["ra"], personas["engineer"]
    response = accept(api_as(engineer), ra)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == ra.pk and body["accepted_by"] == "engineer" and body["accepted_at"]
    assert body["missing"] == [{"key": "C-2", "subject": "1:C-2"}]  # still what it found
    assert delivered(a) == ["1:C-1"] and delivered(two_targets["b"]) == ["1:C-1", "1:C-2"]
    entry = LogEntry.objects.get(additional_data__action="accept_deletions")
    assert entry.actor == engineer and entry.object_pk == str(a.pk)
    assert entry.additional_data == {
        "action": "accept_deletions",
        "reconciliation": ra.pk,
        "entity": "customer",
        "records": 1,
        "via": "api",
    }
    assert api_as(personas["viewer"]).get(f"{URL}{ra.pk}/").json()["accepted_by"] == "engineer"


def test_403_for_callers_who_may_not_reconcile_the_target_and_404_for_unseen_ones(personas, two_targets):
    ra, b = two_targets["ra"], two_targets["b"]
    rb_gone = stored(b, **gone("C-1"))
    for name in ("viewer", "auditor"):
        response = accept(api_as(personas[name]), ra)
        assert response.status_code == 403, name
        assert response.json()["detail"] == "Your role may see reconciliations but not accept their deletions."
    assert accept(api_as(personas["steward"]), ra).status_code == 403  # no reconciliations in the role
    engineer = api_as(personas["engineer"])
    assert accept(engineer, rb_gone).status_code == 404  # not the engineer's connector
    assign_perm("view_connector", personas["engineer"], b)
    response = accept(engineer, rb_gone)
    assert response.status_code == 403 and "not reconcile its target" in response.json()["detail"]
    assert accept(APIClient(), ra).status_code == 401
    assert delivered(two_targets["a"]) == delivered(b) == ["1:C-1", "1:C-2"]
    assert not Reconciliation.objects.filter(accepted_at__isnull=False).exists()
    assert not LogEntry.objects.filter(additional_data__action="accept_deletions").exists()


def test_409_with_the_reason_when_it_cannot_be_accepted(personas, two_targets):
    a, ra, client = two_targets["a"], two_targets["ra"], api_as(personas["engineer"])
    nothing = stored(a, entity="sales_order", delivered=1, present=1)
    refused = accept(client, nothing)
    assert refused.status_code == 409
    assert refused.json() == {"detail": "This reconciliation found no deleted records to accept."}
    later = stored(a, **gone("C-2"), delivered=2, present=1)
    refused = accept(client, ra)
    assert refused.status_code == 409
    assert refused.json() == {
        "detail": "A later reconciliation of this target exists: accept the deletions it found instead."
    }
    assert delivered(a) == ["1:C-1", "1:C-2"]
    assert accept(client, later).status_code == 200
    again = accept(client, later)
    assert again.status_code == 409 and again.json() == {"detail": "engineer already accepted these deletions."}
    assert LogEntry.objects.filter(additional_data__action="accept_deletions").count() == 1
