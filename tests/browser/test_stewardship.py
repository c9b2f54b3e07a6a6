"""The stewardship workspace in a real browser: a steward reviews a pair, merges it
with one value overridden, checks the golden record and undoes the merge; bulk
selection; the import page's progress bar following the job without a reload.

Screenshots land in ``tests/artifacts/`` (git-ignored) for people to look at.
"""

import re

import pytest
from playwright.sync_api import expect

from integrations.models import Connector, Delivery
from masterdata.choices import CandidateStatus, JobStatus, SourceStatus
from masterdata.models import DuplicateCandidate, GoldenRecord, ImportJob, Merge
from masterdata.tests.factories import (
    SourceRecordFactory,
    SystemFactory,
    candidate_for,
    customer_pair,
    golden_with_sources,
)
from tests.browser.conftest import login, screenshot

pytestmark = pytest.mark.browser


def state(*records: GoldenRecord) -> list[dict]:
    """What unmerge must restore: each record's values, lineage, pins, merge link and xrefs."""
    result = []
    for golden in records:
        golden.refresh_from_db()
        xrefs = sorted(golden.source_records.values_list("external_id", flat=True))
        result.append([golden.values, golden.lineage, golden.pinned, golden.merged_into_id, xrefs])
    return result


def test_steward_reviews_merges_with_an_override_and_unmerges(page, live_server, personas, console_errors):
    older, newer, candidate = customer_pair()
    candidate_for(
        golden_with_sources((SystemFactory(name="Legacy CRM"), "L-7", {"first_name": "Alan", "last_name": "Turing"})),
        golden_with_sources((SystemFactory(name="Helpdesk"), "H-2", {"first_name": "A.", "last_name": "Turing"})),
        score=0.71,
    )
    before = state(older, newer)
    # The ERP holds the newer record's party: the merge archives it there (no worker here: it waits).
    erp = Connector(system=SystemFactory(name="ERP"), name="Tryton ERP", adapter="tryton")
    erp.settings = {"url": "http://127.0.0.1:9", "database": "erp"}
    erp.set_credentials({"login": "admin", "password": "secret"})
    erp.save()
    subject = f"golden:{newer.pk}"
    Delivery.objects.create(target=erp, entity="customer", subject=subject, remote_id="7", last_key="k", payload={})
    login(page, live_server, "steward")

    nav = page.get_by_test_id("main-nav")
    expect(nav.get_by_test_id("menu-badge")).to_have_text("2")
    nav.get_by_role("link", name=re.compile("Review queue")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Review queue")
    expect(page.get_by_test_id("open-count")).to_have_text("2 open")
    screenshot(page, "steward-review-queue")

    page.get_by_role("link", name="Ada Lovelace").first.click()
    expect(page).to_have_url(f"{live_server.url}/masterdata/review/{candidate.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Compare two customer records")
    comparison = page.get_by_test_id("comparison")
    expect(comparison.locator("tr[data-differs]")).to_have_count(3)
    expect(comparison.locator("tr[data-field='email']")).to_contain_text("50%")
    # Survivorship (most recent) preselects the newer e-mail; the steward keeps the older one.
    expect(page.locator("#choice-email-right")).to_be_checked()
    screenshot(page, "steward-compare")
    page.get_by_label("ada@example.com").check()
    expect(page.locator("#choice-email-left")).to_be_checked()
    screenshot(page, "steward-compare-overridden")

    page.get_by_role("button", name=re.compile("Merge into")).click()
    expect(page).to_have_url(f"{live_server.url}/masterdata/review/")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(f"Merged “Ada Lovelace” (#{newer.pk}) into Ada Lovelace (#{older.pk})")
    expect(page.get_by_test_id("open-count")).to_have_text("1 open")
    screenshot(page, "steward-merged")
    merge = Merge.objects.get()
    assert (merge.survivor_id, merge.absorbed_id, merge.actor) == (older.pk, newer.pk, personas["steward"])
    assert merge.chosen == {"email": "ada@example.com"}

    alert.get_by_role("link", name="Ada Lovelace").click()
    expect(page).to_have_url(f"{live_server.url}{older.get_absolute_url()}")
    values = page.get_by_test_id("values")
    expect(values.locator("tr[data-field='email']")).to_contain_text("ada@example.com")
    expect(page.get_by_test_id("lineage-email")).to_contain_text("steward")
    expect(page.get_by_test_id("lineage-phone")).to_contain_text("Web shop · S-1")
    expect(page.get_by_test_id("merges")).to_contain_text("merged into this record")
    expect(page.get_by_test_id("target-change")).to_contain_text("Archived at Tryton ERP (7): waiting for a worker")
    expect(page.get_by_test_id("history")).to_contain_text("steward")
    screenshot(page, "steward-golden-record-merged")

    page.get_by_role("button", name="Unmerge").click()
    expect(page.get_by_role("alert")).to_contain_text("is a record of its own again")
    expect(page.get_by_test_id("lineage-email")).to_contain_text("Tryton ERP · C-1")
    screenshot(page, "steward-golden-record-unmerged")
    assert state(older, newer) == before
    assert DuplicateCandidate.objects.get(pk=candidate.pk).status == CandidateStatus.OPEN

    assert console_errors == []


def test_steward_selects_pairs_for_a_bulk_merge(page, live_server, personas, console_errors):
    system = SystemFactory(name="Tryton ERP")
    for n in range(3):
        candidate_for(
            golden_with_sources((system, f"A{n}", {"first_name": f"Person {n}", "city": "Lyon"})),
            golden_with_sources((system, f"B{n}", {"first_name": f"Person {n}", "city": "Lyon"})),
            score=0.97,
        )
    login(page, live_server, "steward")
    page.goto(f"{live_server.url}/masterdata/review/")
    merge_selected = page.get_by_role("button", name=re.compile("Merge selected"))
    expect(merge_selected).to_be_disabled()

    page.get_by_label("Select all pairs on this page").check()
    expect(merge_selected).to_be_enabled()
    expect(merge_selected).to_contain_text("3")
    page.get_by_label("Select this pair").first.uncheck()
    expect(merge_selected).to_contain_text("2")
    screenshot(page, "steward-bulk-selection")

    merge_selected.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Merge 2 pairs?")
    expect(page.get_by_test_id("bulk-summary")).to_contain_text("4 golden records will change")
    screenshot(page, "steward-bulk-confirm")
    page.get_by_role("button", name="Merge 2 pairs").click()
    expect(page.get_by_role("alert")).to_contain_text("Merged 2 pairs: 4 golden records changed.")
    expect(page.get_by_test_id("open-count")).to_have_text("1 open")
    assert Merge.objects.count() == 2
    assert console_errors == []


def test_import_page_follows_the_job_until_done(page, live_server, personas, console_errors):
    job = ImportJob.objects.create(
        system=SystemFactory(name="Legacy CRM"),
        entity="customer",
        filename="customers.csv",
        content="id\n",
        total=40,
        processed=10,
        status=JobStatus.RUNNING,
        counts={"created": 6, "linked": 4},
        created_by=personas["steward"],
    )
    login(page, live_server, "steward")
    page.goto(f"{live_server.url}/masterdata/import/{job.pk}/")
    expect(page.get_by_test_id("job-counter")).to_have_text("10 of 40 rows")
    expect(page.get_by_role("progressbar", name="Import progress")).to_have_attribute("aria-valuenow", "25")
    screenshot(page, "import-running")

    # The worker finishes while the page is open: htmx polling shows it without a reload.
    ImportJob.objects.filter(pk=job.pk).update(
        processed=40,
        status=JobStatus.DONE,
        counts={"created": 25, "linked": 9, "review": 4, "quarantined": 2},
        problems=[
            {"row": 7, "external_id": "C-6", "reason": "email: 'bob(at)example' is not a valid email address"},
            {"row": 31, "external_id": "C-30", "reason": "date_of_birth: 31.02.1990 is not a date"},
        ],
    )
    expect(page.get_by_test_id("job-status")).to_have_text("Done", timeout=5_000)
    expect(page.get_by_test_id("count-created")).to_have_text("25")
    expect(page.get_by_test_id("count-quarantined")).to_have_text("2")
    expect(page.get_by_test_id("job-problems")).to_contain_text("31.02.1990 is not a date")
    screenshot(page, "import-done")
    assert page.get_by_test_id("job-progress").get_attribute("hx-trigger") is None  # polling stopped
    assert console_errors == []


def test_import_form_reports_a_bad_header_on_the_file_field(page, live_server, personas, tmp_path):
    SystemFactory(name="Legacy CRM")
    bad = tmp_path / "contacts.csv"
    bad.write_text("name;mail\nAda;ada@example.com\n")
    login(page, live_server, "steward")
    page.goto(f"{live_server.url}/masterdata/import/")
    screenshot(page, "import-form")
    page.get_by_label("System").select_option(label="Legacy CRM")
    page.get_by_label("Records of type").select_option(label="Customer")
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Start import").click()

    expect(page.get_by_role("alert")).to_contain_text("Nothing was imported yet")
    expect(page.get_by_label("CSV file")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.get_by_text("must name the columns")).to_be_visible()
    screenshot(page, "import-form-bad-header")
    assert not ImportJob.objects.exists()


def test_viewer_reads_records_and_quarantine_without_actions(page, live_server, personas, console_errors):
    customer_pair()
    SourceRecordFactory(
        system=SystemFactory(name="Warehouse"),
        entity="product",
        external_id="P-7",
        status=SourceStatus.QUARANTINED,
        payload={"sku": "ab-12", "name": "Hex bolt", "gtin": "4006381333932"},
        values={"sku": "AB-12", "name": "Hex bolt", "gtin": None},
        changes=[{"field": "sku", "before": "ab-12", "after": "AB-12", "rule": "sku"}],
        errors={"gtin": "The check digit is wrong: expected 1, got 2."},
    )
    login(page, live_server, "viewer")
    nav = page.get_by_test_id("main-nav")
    expect(nav.get_by_role("link", name=re.compile("Review queue"))).to_have_count(0)
    nav.get_by_role("link", name="Master data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Golden records")
    expect(page.get_by_test_id("result-count")).to_contain_text("2 records")
    screenshot(page, "viewer-golden-records")

    page.get_by_role("link", name="Ada Lovelace").first.click()
    expect(page.get_by_test_id("values")).to_contain_text("ada@example.com")
    expect(page.get_by_role("button", name="Unmerge")).to_have_count(0)
    expect(page.get_by_role("link", name="Compare")).to_have_count(0)  # viewers do not review pairs

    page.get_by_role("link", name="Quarantine").click()
    expect(page.get_by_test_id("quarantine")).to_contain_text("The check digit is wrong")
    screenshot(page, "viewer-quarantine")
    page.get_by_role("link", name="P-7").click()
    expect(page.get_by_test_id("quarantine-reason")).to_contain_text("gtin: The check digit is wrong")
    expect(page.get_by_test_id("payload")).to_contain_text("AB-12")
    screenshot(page, "viewer-quarantined-source-record")
    assert console_errors == []
