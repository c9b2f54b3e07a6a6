"""Golden record pages (list, lineage, xrefs, merges, history), unmerge, source records and quarantine."""

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from masterdata.choices import SourceStatus
from masterdata.models import GoldenRecord, Merge, SourceRecord
from masterdata.tests.factories import (
    GoldenRecordFactory,
    SourceRecordFactory,
    SystemFactory,
    customer_pair,
    golden_with_sources,
)

pytestmark = pytest.mark.django_db

RECORDS = reverse("masterdata:goldenrecord_list")
QUARANTINE = reverse("masterdata:quarantine")


def listed(response) -> list:
    return list(response.context["table"].page.object_list.data)


def unmerge_url(merge):
    return reverse("masterdata:merge_undo", args=[merge.pk])


def snapshot(golden: GoldenRecord) -> dict:
    golden.refresh_from_db()
    return {
        "values": golden.values,
        "lineage": golden.lineage,
        "pinned": golden.pinned,
        "display_name": golden.display_name,
        "merged_into": golden.merged_into_id,
        "xrefs": sorted(golden.source_records.values_list("pk", flat=True)),
    }


def test_anonymous_is_sent_to_login(client):
    golden = GoldenRecordFactory()
    for url in (RECORDS, golden.get_absolute_url(), QUARANTINE):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_list_filters_by_entity_and_searches_names(client_for, personas, settings):
    settings.PAGINATE_BY = 5
    ada = GoldenRecordFactory(values={"first_name": "Ada", "last_name": "Lovelace"})
    GoldenRecordFactory.create_batch(6)
    bolt = GoldenRecordFactory(entity="product", values={"name": "Hex bolt M6"})
    merged = GoldenRecordFactory(values={"first_name": "Ada", "last_name": "Byron"}, merged_into=ada)
    client = client_for(personas["viewer"])

    assert client.get(RECORDS).context["table"].paginator.count == 8  # merged-away records hidden
    assert len(listed(client.get(RECORDS, {"page": 2}))) == 3
    assert listed(client.get(RECORDS, {"entity": "product"})) == [bolt]
    assert listed(client.get(RECORDS, {"q": "lovelace"})) == [ada]  # anywhere in the name
    assert listed(client.get(RECORDS, {"merged": "true"})) == [merged]
    assert b"Import a CSV" not in client.get(RECORDS, {"q": "nothing"}).content


def test_list_query_count_is_bounded(client_for, personas, django_assert_max_num_queries):
    target = GoldenRecordFactory()
    GoldenRecordFactory.create_batch(30)
    GoldenRecordFactory.create_batch(5, merged_into=target)
    client = client_for(personas["viewer"])
    with django_assert_max_num_queries(10):
        assert client.get(RECORDS, {"merged": "true"}).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(RECORDS, {"entity": "customer", "q": "Ada"}).status_code == 200


def test_empty_list_points_stewards_to_the_import(client_for, personas):
    assert b"Import a CSV" in client_for(personas["steward"]).get(RECORDS).content
    assert b"Import a CSV" not in client_for(personas["viewer"]).get(RECORDS).content


def test_detail_shows_values_lineage_and_cleansing(client_for, personas):
    erp, shop = SystemFactory(name="Tryton ERP"), SystemFactory(name="Web shop")
    golden = golden_with_sources(
        (erp, "C-1", {"first_name": "Ada", "last_name": "Lovelace", "city": "London"}),
        (shop, "S-9", {"email": "ada@example.com"}),
    )
    shop_source = SourceRecord.objects.get(external_id="S-9")
    shop_source.payload = {"email": " ADA@Example.com "}
    shop_source.changes = [
        {"field": "email", "before": " ADA@Example.com ", "after": "ada@example.com", "rule": "email"}
    ]
    shop_source.save()

    response = client_for(personas["viewer"]).get(golden.get_absolute_url())
    assert response.status_code == 200
    values = {row.name: row for row in response.context["values"]}
    assert values["email"].source == shop_source and values["city"].source.external_id == "C-1"
    html = response.content.decode()
    assert "Web shop · S-9" in html and "Tryton ERP · C-1" in html
    assert " ADA@Example.com " in html and "ada@example.com" in html  # as sent and cleansed
    assert ">email</span>" in html  # the rule's name
    assert "shown to data stewards and auditors" in html  # viewers see lineage, not people
    assert 'data-testid="history"' not in html and "Unmerge" not in html


def test_html_in_values_is_rendered_harmlessly(client_for, personas):
    golden = golden_with_sources((SystemFactory(), "X", {"first_name": "<script>alert(1)</script>"}))
    html = client_for(personas["viewer"]).get(golden.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_detail_query_count_is_bounded(client_for, personas, django_assert_max_num_queries):
    system = SystemFactory()
    golden = golden_with_sources(*[(system, f"x{n}", {"first_name": f"A{n}", "city": f"C{n}"}) for n in range(15)])
    client = client_for(personas["steward"])
    with django_assert_max_num_queries(20):
        assert client.get(golden.get_absolute_url()).status_code == 200


def test_unseen_record_is_404(client_for, personas):
    golden = GoldenRecordFactory()
    assert client_for(personas["nobody"]).get(golden.get_absolute_url()).status_code == 404
    assert client_for(personas["nobody"]).get(RECORDS).context["table"].paginator.count == 0


def test_merge_with_override_then_unmerge_restores_both_records_exactly(client_for, personas):
    older, newer, candidate = customer_pair()
    before = {"older": snapshot(older), "newer": snapshot(newer)}
    client = client_for(personas["steward"])
    client.post(
        reverse("masterdata:candidate_merge", args=[candidate.pk]), {"email": "left", "phone": "right", "city": "left"}
    )
    merge = Merge.objects.get()
    assert snapshot(newer)["merged_into"] == older.pk and snapshot(newer)["xrefs"] == []
    assert snapshot(older)["pinned"] == {"email": "ada@example.com"}

    page = client.get(older.get_absolute_url()).content.decode()
    assert "Unmerge" in page and "merged into this record" in page and 'data-testid="history"' in page
    assert "steward" in page  # lineage says who chose the e-mail
    absorbed_page = client.get(newer.get_absolute_url()).content.decode()
    assert 'data-testid="merged-into"' in absorbed_page and "Unmerge" not in absorbed_page

    response = client.post(unmerge_url(merge))
    assert response.status_code == 302 and response["Location"] == older.get_absolute_url()
    assert {"older": snapshot(older), "newer": snapshot(newer)} == before
    merge.refresh_from_db()
    assert merge.undone_by == personas["steward"] and merge.undone_at is not None
    candidate.refresh_from_db()
    assert candidate.status == "open"
    assert LogEntry.objects.get_for_object(merge).filter(actor=personas["steward"]).count() == 2
    assert "is a record of its own again" in client.get(response["Location"]).content.decode()
    # Undone once: the button is gone and a second attempt changes nothing.
    assert "Unmerge</button>" not in client.get(older.get_absolute_url()).content.decode()
    client.post(unmerge_url(merge))
    assert {"older": snapshot(older), "newer": snapshot(newer)} == before


def test_only_the_latest_merge_can_be_undone(client_for, personas):
    older, _newer, candidate = customer_pair()
    third = golden_with_sources((SystemFactory(), "Z-1", {"first_name": "Ada", "last_name": "L."}))
    client = client_for(personas["steward"])
    client.post(
        reverse("masterdata:candidate_merge", args=[candidate.pk]), {"email": "left", "phone": "left", "city": "left"}
    )
    from masterdata.services.merge import merge

    merge(older, third, actor=personas["steward"])
    first, second = Merge.objects.order_by("created", "pk")
    page = client.get(older.get_absolute_url())
    assert page.context["unmerge_id"] == second.pk
    assert b"undo later merges first" in page.content
    client.post(unmerge_url(first))
    first.refresh_from_db()
    assert first.undone_at is None


def test_a_merge_shows_what_it_did_at_the_targets(client_for, personas):
    from integrations.models import TargetChange
    from integrations.tests.pages import rest_connector
    from masterdata.services.merge import merge

    survivor, absorbed, _candidate = customer_pair()
    record = merge(survivor, absorbed, actor=personas["steward"])
    erp = rest_connector("Tryton ERP")
    base = {"merge": record, "target": erp, "entity": "customer", "subject": f"golden:{absorbed.pk}"}
    TargetChange.objects.create(**base, action="archive", remote_id="C-7", status="done")
    TargetChange.objects.create(**base, action="archive", remote_id="C-8", status="failed", error="HTTP 403: no rights")

    html = client_for(personas["steward"]).get(survivor.get_absolute_url()).content.decode()
    for_viewer = client_for(personas["viewer"]).get(survivor.get_absolute_url()).content.decode()

    assert html.count('data-testid="target-change"') == 2
    assert "Archived at Tryton ERP" in html and "(C-7)" in html and "failed: HTTP 403: no rights" in html
    assert 'data-testid="target-change"' not in for_viewer  # viewers do not see the targets' side


def test_viewer_and_nobody_cannot_unmerge(client_for, personas):
    older, _newer, candidate = customer_pair()
    client_for(personas["steward"]).post(
        reverse("masterdata:candidate_merge", args=[candidate.pk]), {"email": "left", "phone": "left", "city": "left"}
    )
    merge = Merge.objects.get()
    for role in ("viewer", "nobody", "engineer", "auditor"):
        assert client_for(personas[role]).post(unmerge_url(merge)).status_code == 404, role
    assert client_for(personas["viewer"]).get(unmerge_url(merge)).status_code in (404, 405)
    merge.refresh_from_db()
    assert merge.undone_at is None
    # The viewer reads the survivor but gets neither the merges nor an unmerge button.
    html = client_for(personas["viewer"]).get(older.get_absolute_url()).content.decode()
    assert "Unmerge" not in html and 'data-testid="merges"' not in html


def test_auditor_sees_history_with_links_to_the_trail(client_for, personas):
    golden = golden_with_sources((SystemFactory(), "A", {"first_name": "Ada"}))
    html = client_for(personas["auditor"]).get(golden.get_absolute_url()).content.decode()
    assert 'data-testid="history"' in html and "Audit entry" in html


def test_quarantine_lists_reasons_and_filters(client_for, personas):
    erp, shop = SystemFactory(name="ERP"), SystemFactory(name="Shop")
    bad = SourceRecordFactory(
        system=erp,
        external_id="P-7",
        entity="product",
        status=SourceStatus.QUARANTINED,
        payload={"gtin": "4006381333932"},
        errors={"gtin": "The check digit is wrong (expected 1)."},
    )
    SourceRecordFactory(system=shop, status=SourceStatus.QUARANTINED, errors={"date_of_birth": "Not a date."})
    SourceRecordFactory(system=shop, status=SourceStatus.LINKED, golden=GoldenRecordFactory())
    client = client_for(personas["viewer"])

    response = client.get(QUARANTINE)
    assert response.context["table"].paginator.count == 2
    assert "gtin: The check digit is wrong (expected 1)." in response.content.decode()
    assert listed(client.get(QUARANTINE, {"system": erp.pk})) == [bad]
    assert listed(client.get(QUARANTINE, {"entity": "customer"})) != [bad]

    page = client.get(reverse("masterdata:sourcerecord_detail", args=[bad.pk])).content.decode()
    assert "The check digit is wrong" in page and "4006381333932" in page
    assert client_for(personas["nobody"]).get(QUARANTINE).context["table"].paginator.count == 0
    assert (
        client_for(personas["nobody"]).get(reverse("masterdata:sourcerecord_detail", args=[bad.pk])).status_code == 404
    )


def test_quarantine_query_count_is_bounded(client_for, personas, django_assert_max_num_queries):
    for system in SystemFactory.create_batch(3):
        SourceRecordFactory.create_batch(10, system=system, status=SourceStatus.QUARANTINED, errors={"x": "bad"})
    client = client_for(personas["viewer"])
    client.get(QUARANTINE)  # the process's first page fills caches (content types): measure a steady one
    with django_assert_max_num_queries(10):
        assert client.get(QUARANTINE).status_code == 200


def test_unmerge_needs_change_on_both_golden_records_like_merge(client_for, personas):
    from guardian.shortcuts import assign_perm

    from masterdata.services.merge import merge as merge_records

    older, newer, _candidate = customer_pair()
    merge = merge_records(older, newer, actor=personas["steward"])
    outsider = personas["nobody"]
    assign_perm("masterdata.change_merge", outsider, merge)  # the merge granted, the records not
    assign_perm("masterdata.view_merge", outsider, merge)
    assert client_for(outsider).post(unmerge_url(merge)).status_code == 404
    merge.refresh_from_db()
    assert merge.undone_at is None
