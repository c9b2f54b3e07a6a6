"""The review queue and the comparison: filters, counts, the merge form, decisions and who may take them."""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from masterdata.choices import CandidateStatus, Strategy
from masterdata.models import DuplicateCandidate, GoldenRecord, Merge, SourceRecord, SurvivorshipRule
from masterdata.tests.factories import SystemFactory, candidate_for, customer_pair, golden_with_sources

pytestmark = pytest.mark.django_db

QUEUE = reverse("masterdata:candidate_list")


def compare_url(candidate):
    return reverse("masterdata:candidate_detail", args=[candidate.pk])


def merge_url(candidate):
    return reverse("masterdata:candidate_merge", args=[candidate.pk])


def reject_url(candidate):
    return reverse("masterdata:candidate_reject", args=[candidate.pk])


def listed(response) -> list[int]:
    return [candidate.pk for candidate in response.context["table"].page.object_list.data]


def test_anonymous_is_sent_to_login(client):
    _, _, candidate = customer_pair()
    for url in (QUEUE, compare_url(candidate)):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    response = client.post(merge_url(candidate))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert DuplicateCandidate.objects.get().status == CandidateStatus.OPEN


def test_queue_lists_open_pairs_with_the_count_in_the_heading(client_for, personas):
    _, _, open_pair = customer_pair()
    decided = candidate_for(golden_with_sources(), golden_with_sources(), status=CandidateStatus.NOT_DUPLICATE)
    response = client_for(personas["steward"]).get(QUEUE)
    assert response.status_code == 200
    assert listed(response) == [open_pair.pk]
    assert decided.pk not in listed(response)
    html = response.content.decode()
    assert 'data-testid="open-count">1 open<' in html.replace("\n", "")
    assert "Ada Lovelace" in html and 'data-testid="bulk-bar"' in html
    # The menu's badge shows the same number.
    assert 'data-testid="menu-badge">1<' in html


def test_filters_entity_score_system_and_age(client_for, personas):
    erp, shop, wms = SystemFactory(name="ERP"), SystemFactory(name="Shop"), SystemFactory(name="WMS")
    low = candidate_for(golden_with_sources((erp, "1", {})), golden_with_sources((erp, "2", {})), score=0.65)
    high = candidate_for(golden_with_sources((erp, "3", {})), golden_with_sources((shop, "4", {})), score=0.93)
    product = candidate_for(
        golden_with_sources((wms, "5", {"name": "Bolt"}), entity="product"),
        golden_with_sources((wms, "6", {"name": "Bolt M6"}), entity="product"),
        score=0.8,
    )
    DuplicateCandidate.objects.filter(pk=low.pk).update(created=timezone.now() - timedelta(days=40))
    client = client_for(personas["steward"])

    assert listed(client.get(QUEUE)) == [high.pk, product.pk, low.pk]  # best score first
    assert listed(client.get(QUEUE, {"entity": "product"})) == [product.pk]
    assert listed(client.get(QUEUE, {"min_score": "0.7", "max_score": "0.9"})) == [product.pk]
    assert listed(client.get(QUEUE, {"system": shop.pk})) == [high.pk]  # the right side came from the shop
    assert listed(client.get(QUEUE, {"system": erp.pk})) == [high.pk, low.pk]
    assert listed(client.get(QUEUE, {"age": "over_month"})) == [low.pk]
    assert listed(client.get(QUEUE, {"age": "week"})) == [high.pk, product.pk]
    assert listed(client.get(QUEUE, {"sort": "score"})) == [low.pk, product.pk, high.pk]
    filtered = client.get(QUEUE, {"entity": "product"})
    assert filtered.context["open_total"] == 3
    assert "1 of 3 open pairs match your filters" in filtered.content.decode()


def test_queue_paginates(client_for, personas, settings):
    settings.PAGINATE_BY = 5
    for _ in range(7):
        candidate_for(golden_with_sources(), golden_with_sources())
    client = client_for(personas["steward"])
    assert len(listed(client.get(QUEUE))) == 5
    assert len(listed(client.get(QUEUE, {"page": 2}))) == 2


def test_queue_query_count_does_not_grow_with_rows(client_for, personas, django_assert_max_num_queries):
    system = SystemFactory()
    for n in range(30):
        candidate_for(golden_with_sources((system, f"a{n}", {})), golden_with_sources((system, f"b{n}", {})))
    client = client_for(personas["steward"])
    with django_assert_max_num_queries(14):
        assert client.get(QUEUE, {"system": system.pk, "entity": "customer"}).status_code == 200


def test_empty_queue_says_so(client_for, personas):
    response = client_for(personas["steward"]).get(QUEUE)
    assert b"empty-state" in response.content and b"Nothing waits for review" in response.content


def test_system_filter_offers_only_visible_systems(client_for, personas):
    SystemFactory(name="Secret HR")
    response = client_for(personas["nobody"]).get(QUEUE, {"entity": "customer"})
    assert b"Secret HR" not in response.content


def test_compare_shows_every_field_differences_and_why(client_for, personas):
    older, _newer, candidate = customer_pair()
    response = client_for(personas["steward"]).get(compare_url(candidate))
    assert response.status_code == 200
    rows = {row.name: row for row in response.context["rows"]}
    assert list(rows) == older.schema.field_names
    assert rows["email"].differs and not rows["first_name"].differs
    assert rows["first_name"].similarity_percent == 100 and rows["email"].similarity_percent == 50
    html = response.content.decode()
    assert "ada@example.com" in html and "ada.l@example.org" in html
    assert html.count("data-differs") == 3  # email, phone and city; the names agree
    assert "Tryton ERP · C-1" in html and "Web shop · S-1" in html  # the xrefs of each side
    assert "Merge into" in html and "Not a duplicate" in html


def test_merge_form_defaults_to_survivorship(client_for, personas):
    older, _newer, candidate = customer_pair()
    form = client_for(personas["steward"]).get(compare_url(candidate)).context["form"]
    # Most recent wins by default: the newer record's e-mail; fields only one side has are kept.
    assert set(form.fields) == {"email", "phone", "city"}
    assert form.fields["email"].initial == "right"
    assert form.fields["city"].initial == "left" and form.fields["phone"].initial == "right"

    SurvivorshipRule.objects.create(
        entity="customer",
        field="email",
        strategy=Strategy.MOST_TRUSTED,
        trusted_systems=[older.source_records.get().system_id],
    )
    form = client_for(personas["steward"]).get(compare_url(candidate)).context["form"]
    assert form.fields["email"].initial == "left"


def test_steward_merges_with_one_field_overridden_and_it_is_audited(client_for, personas):
    older, newer, candidate = customer_pair()
    client = client_for(personas["steward"])
    response = client.post(merge_url(candidate), {"email": "left", "phone": "right", "city": "left"})

    assert response.status_code == 302 and response["Location"] == QUEUE
    merge = Merge.objects.get()
    assert (merge.survivor, merge.absorbed, merge.actor) == (older, newer, personas["steward"])
    assert merge.chosen == {"email": "ada@example.com"}  # only the choice against the rules is pinned
    older.refresh_from_db()
    assert older.values["email"] == "ada@example.com" and older.lineage["email"] == "steward"
    assert older.values["phone"] == "+442079460000"
    assert set(older.source_records.values_list("external_id", flat=True)) == {"C-1", "S-1"}
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.MERGED and candidate.decided_by == personas["steward"]
    assert LogEntry.objects.get_for_object(merge).get().actor == personas["steward"]
    assert LogEntry.objects.get_for_object(older).filter(actor=personas["steward"]).exists()

    page = client.get(response["Location"])
    message = page.content.decode()
    assert f'href="{older.get_absolute_url()}"' in message and f"Merged “Ada Lovelace” (#{newer.pk}) into" in message


def test_merge_needs_a_choice_for_every_differing_field(client_for, personas):
    _, _, candidate = customer_pair()
    response = client_for(personas["steward"]).post(merge_url(candidate), {"email": "left"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"phone", "city"}
    assert b"Nothing was merged yet" in response.content
    assert not Merge.objects.exists()


def test_not_a_duplicate_is_remembered(client_for, personas):
    _older, _newer, candidate = customer_pair()
    client = client_for(personas["steward"])
    assert client.post(reject_url(candidate)).status_code == 302
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.NOT_DUPLICATE and candidate.decided_by == personas["steward"]
    assert GoldenRecord.objects.filter(merged_into__isnull=True).count() == 2
    assert listed(client.get(QUEUE)) == []
    # A decided pair shows its outcome and offers no decision any more.
    html = client.get(compare_url(candidate)).content.decode()
    assert "Not a duplicate" in html and "Merge into" not in html
    assert client.post(merge_url(candidate), {"email": "left"}).status_code == 302
    assert not Merge.objects.exists()


def test_viewer_can_neither_see_nor_decide(client_for, personas):
    _, _, candidate = customer_pair()
    client = client_for(personas["viewer"])
    assert listed(client.get(QUEUE)) == []
    assert client.get(compare_url(candidate)).status_code == 404
    for url in (merge_url(candidate), reject_url(candidate)):
        assert client.post(url, {"email": "left", "phone": "left", "city": "left"}).status_code in (403, 404)
    assert DuplicateCandidate.objects.get().status == CandidateStatus.OPEN and not Merge.objects.exists()


def test_auditor_and_engineer_see_the_pair_but_get_no_buttons(client_for, personas):
    _, _, candidate = customer_pair()
    for role in ("auditor", "engineer"):
        client = client_for(personas[role])
        html = client.get(compare_url(candidate)).content.decode()
        assert "ada.l@example.org" in html
        assert "Merge into" not in html and "Not a duplicate" not in html and 'type="radio"' not in html
        assert client.post(merge_url(candidate), {"email": "left"}).status_code == 403
        assert client.post(reject_url(candidate)).status_code == 403
    assert DuplicateCandidate.objects.get().status == CandidateStatus.OPEN


def test_nobody_sees_nothing(client_for, personas):
    _, _, candidate = customer_pair()
    client = client_for(personas["nobody"])
    assert listed(client.get(QUEUE)) == []
    assert client.get(compare_url(candidate)).status_code == 404
    assert client.post(merge_url(candidate)).status_code == 403


def test_get_on_an_action_is_refused(client_for, personas):
    _, _, candidate = customer_pair()
    assert client_for(personas["steward"]).get(merge_url(candidate)).status_code == 405


def test_a_pair_whose_record_was_merged_away_cannot_be_merged(client_for, personas):
    older, newer, candidate = customer_pair()
    third = golden_with_sources((SystemFactory(), "X", {"first_name": "Ada"}))
    other = candidate_for(newer, third)
    client = client_for(personas["steward"])
    client.post(merge_url(candidate), {"email": "left", "phone": "left", "city": "left"})
    other.refresh_from_db()
    assert other.status == CandidateStatus.SUPERSEDED
    response = client.post(merge_url(other), {})
    assert response.status_code == 302
    assert Merge.objects.count() == 1
    assert SourceRecord.objects.filter(golden=older).count() == 2
