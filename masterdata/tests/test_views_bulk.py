"""Bulk merge: a confirmation that says exactly how many records change, then merge_candidates()."""

import pytest
from django.urls import reverse

from masterdata.choices import CandidateStatus
from masterdata.models import DuplicateCandidate, GoldenRecord, Merge
from masterdata.tests.factories import SystemFactory, candidate_for, golden_with_sources
from masterdata.views import bulk

pytestmark = pytest.mark.django_db

BULK = reverse("masterdata:candidate_bulk")
QUEUE = reverse("masterdata:candidate_list")


@pytest.fixture
def chain():
    """a~b (0.99), b~c (0.97), d~e (0.96), f~g (0.7): b~c is resolved by a~b on the way."""
    system = SystemFactory()
    records = [golden_with_sources(*[(system, f"{n}-{i}", {"first_name": n}) for i in range(2)]) for n in "abcdefg"]
    a, b, c, d, e, f, g = records
    return {
        "records": records,
        "ab": candidate_for(a, b, score=0.99),
        "bc": candidate_for(b, c, score=0.97),
        "de": candidate_for(d, e, score=0.96),
        "fg": candidate_for(f, g, score=0.7),
    }


def test_confirmation_counts_exactly_what_will_change(client_for, personas, chain):
    client = client_for(personas["steward"])
    picked = [chain[k].pk for k in ("ab", "bc", "de")]
    response = client.get(BULK, {"candidate": picked})
    plan = response.context["plan"]
    assert [c.pk for c in plan.merges] == [chain["ab"].pk, chain["de"].pk]
    assert [c.pk for c in plan.skipped] == [chain["bc"].pk]
    assert (plan.changed_records, plan.absorbed_records, plan.surviving_records, plan.moved_sources) == (4, 2, 2, 4)
    html = response.content.decode()
    assert "Merge 2 pairs?" in html and "4 golden records will change" in html
    assert "1 selected pair is skipped" in html
    assert not Merge.objects.exists()  # nothing happens before confirming


def test_confirming_merges_and_reports(client_for, personas, chain):
    client = client_for(personas["steward"])
    confirm = client.get(BULK, {"candidate": [chain[k].pk for k in ("ab", "bc", "de")]})
    ids = [c.pk for c in confirm.context["plan"].merges]
    response = client.post(BULK, {"candidate": ids})
    assert response.status_code == 302 and response["Location"] == QUEUE
    assert Merge.objects.count() == 2 and set(Merge.objects.values_list("actor", flat=True)) == {personas["steward"].pk}
    assert GoldenRecord.objects.filter(merged_into__isnull=False).count() == 2
    statuses = dict(DuplicateCandidate.objects.values_list("pk", "status"))
    assert statuses[chain["bc"].pk] == CandidateStatus.SUPERSEDED and statuses[chain["fg"].pk] == CandidateStatus.OPEN
    assert "Merged 2 pairs: 4 golden records changed." in client.get(QUEUE).content.decode()


def test_all_above_a_score_respects_the_other_filters(client_for, personas, chain):
    client = client_for(personas["steward"])
    response = client.get(BULK, {"min_score": "0.965"})
    assert [c.pk for c in response.context["plan"].merges] == [chain["ab"].pk]
    assert response.context["plan"].skipped == [chain["bc"]]
    response = client.get(BULK, {"min_score": "0.9", "max_score": "0.98"})
    assert [c.pk for c in response.context["plan"].merges] == [chain["bc"].pk, chain["de"].pk]


def test_a_batch_is_capped_and_says_so(client_for, personas, chain, monkeypatch):
    monkeypatch.setattr(bulk, "BULK_LIMIT", 2)
    response = client_for(personas["steward"]).get(BULK, {"min_score": "0.5"})
    assert response.context["matching"] == 4 and len(response.context["plan"].merges) == 1
    assert "4 pairs match; the 2 highest-scoring are merged now" in response.content.decode()


def test_without_a_selection_nothing_happens(client_for, personas, chain):
    client = client_for(personas["steward"])
    response = client.get(BULK)
    assert response.status_code == 302 and response["Location"] == QUEUE
    assert client.get(BULK, {"min_score": "seven"}).status_code == 302
    response = client.post(BULK, {"candidate": ["999999"]})
    assert response.status_code == 302 and not Merge.objects.exists()


def test_the_queue_offers_bulk_only_to_those_who_may_merge(client_for, personas, chain):
    assert b'name="candidate"' in client_for(personas["steward"]).get(QUEUE).content
    html = client_for(personas["auditor"]).get(QUEUE).content.decode()
    assert 'name="candidate"' not in html and 'data-testid="bulk-bar"' not in html


@pytest.mark.parametrize("role", ["viewer", "auditor", "engineer", "nobody"])
def test_other_roles_cannot_bulk_merge(client_for, personas, chain, role):
    client = client_for(personas[role])
    assert client.get(BULK, {"min_score": "0.5"}).status_code == 403
    assert client.post(BULK, {"candidate": [chain["ab"].pk]}).status_code == 403
    assert not Merge.objects.exists()
