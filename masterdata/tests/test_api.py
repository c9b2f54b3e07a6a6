"""/api/v1/masterdata/: read golden records and candidates through restrict(), decide pairs with POST actions."""

import pytest
from auditlog.models import LogEntry
from rest_framework.test import APIClient

from accounts.tokens import create_token
from conftest import api_as
from masterdata.choices import CandidateStatus
from masterdata.models import DuplicateCandidate, GoldenRecord, Merge
from masterdata.tests.factories import GoldenRecordFactory, candidate_for, customer_pair, golden_with_sources

pytestmark = pytest.mark.django_db

RECORDS = "/api/v1/masterdata/golden-records/"
CANDIDATES = "/api/v1/masterdata/candidates/"


def merge_url(candidate):
    return f"{CANDIDATES}{candidate.pk}/merge/"


def reject_url(candidate):
    return f"{CANDIDATES}{candidate.pk}/not-duplicate/"


def test_anonymous_is_refused():
    _, _, candidate = customer_pair()
    client = APIClient()
    assert client.get(RECORDS).status_code in (401, 403)
    assert client.get(CANDIDATES).status_code in (401, 403)
    assert client.post(merge_url(candidate), {}, format="json").status_code in (401, 403)


def test_golden_records_are_read_through_restrict(personas):
    ada = GoldenRecordFactory(values={"first_name": "Ada", "last_name": "Lovelace"})
    GoldenRecordFactory(entity="product", values={"name": "Bolt"})
    body = api_as(personas["viewer"]).get(RECORDS).json()
    assert body["count"] == 2
    row = api_as(personas["viewer"]).get(RECORDS, {"entity": "customer"}).json()["results"][0]
    assert row["display_name"] == "Ada Lovelace" and row["values"]["first_name"] == "Ada"
    assert row["url"].endswith(f"{RECORDS}{ada.pk}/")
    assert api_as(personas["nobody"]).get(RECORDS).json()["count"] == 0
    assert api_as(personas["nobody"]).get(f"{RECORDS}{ada.pk}/").status_code == 404


def test_golden_records_cannot_be_written(personas):
    golden = GoldenRecordFactory()
    client = api_as(personas["admin"])
    assert client.post(RECORDS, {"entity": "customer"}, format="json").status_code == 405
    assert client.patch(f"{RECORDS}{golden.pk}/", {"display_name": "x"}, format="json").status_code == 405
    assert client.delete(f"{RECORDS}{golden.pk}/").status_code == 405
    assert GoldenRecord.objects.get().display_name == golden.display_name


def test_candidates_list_open_pairs_with_filters(personas):
    _, _, open_pair = customer_pair(score=0.9)
    low = candidate_for(golden_with_sources(), golden_with_sources(), score=0.65)
    rejected = candidate_for(golden_with_sources(), golden_with_sources(), status=CandidateStatus.NOT_DUPLICATE)
    client = api_as(personas["steward"])
    assert [row["id"] for row in client.get(CANDIDATES).json()["results"]] == [open_pair.pk, low.pk]
    assert [row["id"] for row in client.get(CANDIDATES, {"min_score": "0.8"}).json()["results"]] == [open_pair.pk]
    assert [row["id"] for row in client.get(CANDIDATES, {"status": "not_duplicate"}).json()["results"]] == [rejected.pk]
    detail = client.get(f"{CANDIDATES}{open_pair.pk}/").json()
    assert detail["left"]["display_name"] == "Ada Lovelace" and detail["fields"]["first_name"] == 1.0
    assert api_as(personas["viewer"]).get(CANDIDATES).json()["count"] == 0  # viewers do not review
    assert api_as(personas["viewer"]).get(f"{CANDIDATES}{open_pair.pk}/").status_code == 404


def test_steward_merges_with_an_override_by_token_and_it_is_audited(personas):
    older, _newer, candidate = customer_pair()
    _token, secret = create_token(personas["steward"], "test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    response = client.post(merge_url(candidate), {"choices": {"email": "left"}}, format="json")

    assert response.status_code == 201, response.json()
    merge = Merge.objects.get()
    assert response.json()["id"] == merge.pk and response.json()["survivor"]["id"] == older.pk
    assert merge.chosen == {"email": "ada@example.com"} and merge.actor == personas["steward"]
    older.refresh_from_db()
    assert older.values["phone"] == "+442079460000"  # not named: survivorship's default
    assert LogEntry.objects.get_for_object(merge).get().actor == personas["steward"]
    # Decided: a second decision is refused.
    assert client.post(merge_url(candidate), {}, format="json").status_code == 400
    assert client.post(reject_url(candidate)).status_code == 400


def test_bad_choices_get_field_errors(personas):
    _, _, candidate = customer_pair()
    client = api_as(personas["steward"])
    response = client.post(merge_url(candidate), {"choices": {"email": "middle"}}, format="json")
    assert response.status_code == 400 and "email" in response.json()["choices"]
    response = client.post(merge_url(candidate), {"choices": {"first_name": "right"}}, format="json")
    assert response.status_code == 400
    assert response.json()["choices"]["first_name"] == "The records do not differ in this field."
    assert not Merge.objects.exists()


def test_not_duplicate(personas):
    _, _, candidate = customer_pair()
    response = api_as(personas["steward"]).post(reject_url(candidate))
    assert response.status_code == 200 and response.json()["status"] == "not_duplicate"
    assert response.json()["decided_by"] == "steward"


@pytest.mark.parametrize("role", ["viewer", "auditor", "engineer", "nobody"])
def test_other_roles_cannot_decide(personas, role):
    _, _, candidate = customer_pair()
    client = api_as(personas[role])
    assert client.post(merge_url(candidate), {}, format="json").status_code in (403, 404)
    assert client.post(reject_url(candidate)).status_code in (403, 404)
    assert DuplicateCandidate.objects.get().status == CandidateStatus.OPEN and not Merge.objects.exists()


def test_list_query_counts_are_bounded(personas, django_assert_max_num_queries):
    for _ in range(20):
        candidate_for(golden_with_sources(), golden_with_sources())
    client = api_as(personas["steward"])
    with django_assert_max_num_queries(8):
        assert client.get(CANDIDATES).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(RECORDS).status_code == 200


def test_schema_documents_the_actions(client_for, personas):
    paths = client_for(personas["viewer"]).get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    assert "/api/v1/masterdata/golden-records/" in paths
    assert "post" in paths["/api/v1/masterdata/candidates/{id}/merge/"]
    assert "post" in paths["/api/v1/masterdata/candidates/{id}/not-duplicate/"]
