"""The integration engineer's whole journey, in a real browser against a real Celery worker.

An engineer signs in, registers a CRM and an ERP, adds a SQL connector for
each (SQLite files here: the CRM's customers, the ERP's staging table), tests
both connections, builds a customer flow and writes its mapping with the live
preview, moves it to Test and watches a dry run finish on its own page, reads
the dry-run report (and the ERP has received nothing), promotes the flow to
Live and runs it. One customer has no e-mail address, which the ERP's table
refuses: it waits in the dead-letter queue with the database's own words. The
engineer gives the mapping a default for missing e-mails, replays the record
from the queue, and it reaches the ERP exactly once.

Nothing is faked between the browser and the target: the pages are served by
the live server, the runs are done by a ``celery worker`` process sharing the
test database and the configured broker (filesystem or Redis), and the ERP
table records every write it receives in ``erp_writes`` by a trigger, so
"delivered once" is counted by the target itself. Screenshots land in
``tests/artifacts/journey-*.png``.
"""

import json
import re
import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import expect

from integrations.choices import OutcomeStatus, RunStatus, Stage
from integrations.models import Connector, Flow, RecordOutcome, Run
from tests.browser.conftest import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.worker]

WORKER_MS = 40_000  # a run's journey through the worker, polled by the page every 2 s

CUSTOMERS = [
    # id, first_name, last_name, email, country, updated_at
    ("C-1", "Ada", "Lovelace", "ada@example.com", "GB", "2026-11-02T09:00:00"),
    ("C-2", "Grace", "Hopper", " Grace.Hopper@Example.COM ", "US", "2026-11-02T09:05:00"),
    ("C-3", "Alan", "Turing", None, "GB", "2026-11-02T09:10:00"),  # the ERP needs an e-mail address
]
MAPPING = [
    {"target": "customer_no", "op": "copy", "from": "external_id"},
    {"target": "name", "op": "expression", "expression": "first_name + ' ' + last_name"},
    {"target": "email", "op": "copy", "from": "email"},
    {"target": "country", "op": "copy", "from": "country"},
]
FALLBACK_EMAIL = "accounts@example.com"
FIXED_MAPPING = [{**rule, "default": FALLBACK_EMAIL} if rule["target"] == "email" else rule for rule in MAPPING]


RUN_PAGE = re.compile(r"/integrations/runs/\d+/$")


def make_crm(path: Path) -> Path:
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE customers (id TEXT PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT,"
            " country TEXT, updated_at TEXT)"
        )
        db.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)", CUSTOMERS)
    return path


def make_erp(path: Path) -> Path:
    """The ERP's staging table, which insists on an e-mail, and a log of every write it accepts."""
    with sqlite3.connect(path) as db:
        db.executescript(
            """
            CREATE TABLE erp_customers (
                customer_no TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, country TEXT);
            CREATE TABLE erp_writes (customer_no TEXT, op TEXT);
            CREATE TRIGGER erp_insert AFTER INSERT ON erp_customers
                BEGIN INSERT INTO erp_writes VALUES (NEW.customer_no, 'insert'); END;
            CREATE TRIGGER erp_update AFTER UPDATE ON erp_customers
                BEGIN INSERT INTO erp_writes VALUES (NEW.customer_no, 'update'); END;
            """
        )
    return path


def erp(path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


def menu(page, label):
    nav = page.get_by_test_id("main-nav")
    nav.get_by_role("button", name="Integrations").click()
    nav.get_by_role("link", name=label).click()


def add_system(page, name, kind):
    menu(page, "Systems")
    page.get_by_role("link", name="Add system").first.click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Kind").select_option(label=kind)
    page.get_by_label("Environment").select_option(label="Sandbox")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def add_sqlite_connector(page, name, system, path, entities, shot=None) -> Connector:
    """Add a SQL connector through its form; the SQL fields come in when the adapter is chosen."""
    menu(page, "Connectors")
    page.get_by_role("link", name="Add connector").first.click()
    page.locator("#id_name").fill(name)
    page.get_by_label("System").select_option(label=system)
    page.get_by_label("Adapter").select_option(label="SQL database")
    expect(page.get_by_test_id("adapter-fields").locator("[data-adapter=sql]")).to_be_visible()
    page.get_by_label("Dialect").select_option(label="SQLite")
    page.get_by_label("Path").fill(str(path))
    page.get_by_label("Entities").fill(json.dumps(entities, indent=2))
    if shot:
        screenshot(page, shot)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text(f"Created connector “{name}”")
    return Connector.objects.get(name=name)


def check_connection(page, expected_checks: int):
    page.get_by_test_id("test-connection").click()
    expect(page.get_by_test_id("connection-result")).to_contain_text("Every check passed")
    expect(page.get_by_test_id("connection-checks").locator("li[data-ok=true]")).to_have_count(expected_checks)


def wait_for_run(page, label: str):
    """The run page follows the worker by itself: no reload from here, only the page's own polling."""
    expect(page.get_by_test_id("run-status").first).to_have_text(label, timeout=WORKER_MS)


def fill_mapping(page, rules):
    page.locator("#id_mapping").fill(json.dumps(rules, indent=2))


def test_engineer_builds_dry_runs_promotes_runs_and_replays(
    page, live_server, personas, start_worker, tmp_path, console_errors
):
    from config.celery import app

    app.control.purge()  # messages other tests left in this broker are not this journey's
    crm_path, erp_path = make_crm(tmp_path / "crm.sqlite3"), make_erp(tmp_path / "erp.sqlite3")
    engineer = personas["engineer"]
    login(page, live_server, "engineer")
    expect(page.get_by_test_id("whoami")).to_contain_text("engineer")

    # --- Systems and connectors ------------------------------------------------------------------
    add_system(page, "Shop CRM", "CRM")
    add_system(page, "Finance ERP", "ERP")
    crm = add_sqlite_connector(
        page,
        "CRM database",
        "Shop CRM",
        crm_path,
        {"customer": {"table": "customers", "id_column": "id", "watermark_column": "updated_at"}},
        shot="journey-01-source-connector-form",
    )
    check_connection(page, expected_checks=2)  # connect; read customers
    expect(page.get_by_test_id("connection-checks")).to_contain_text("id, first_name, last_name, email")
    screenshot(page, "journey-02-source-tested")

    target = add_sqlite_connector(
        page,
        "ERP staging",
        "Finance ERP",
        erp_path,
        {"customer": {"write_table": "erp_customers", "id_column": "customer_no"}},
    )
    check_connection(page, expected_checks=2)  # connect; the write table has a key to upsert on
    expect(page.get_by_test_id("connection-checks")).to_contain_text("unique on (customer_no)")
    assert engineer.has_perm("integrations.change_connector", target)  # the creator may change it

    # --- The flow and its mapping ----------------------------------------------------------------
    menu(page, "Flows")
    page.get_by_role("link", name="Add flow").first.click()
    page.locator("#id_name").fill("CRM customers to ERP")
    page.get_by_label("Entity").select_option(label="Customer")
    page.get_by_label("Source").select_option(label="CRM database")
    page.get_by_label("Targets").select_option(label="ERP staging")
    page.get_by_label("Trigger").select_option(label="Manual")
    page.get_by_role("button", name="Save").click()
    flow = Flow.objects.get(name="CRM customers to ERP")
    expect(page).to_have_url(f"{live_server.url}{flow.get_absolute_url()}")
    assert (flow.source, list(flow.targets.all()), flow.stage) == (crm, [target], Stage.DRAFT)

    page.get_by_role("link", name="Edit mapping").click()
    page.locator("#id_sample").fill(json.dumps({"id": "C-9", "first_name": "Edsger", "last_name": "Dijkstra"}))
    fill_mapping(page, MAPPING)
    mapped = page.get_by_test_id("preview-mapped")
    expect(mapped).to_contain_text("Edsger Dijkstra")
    expect(mapped.locator("tr", has_text="customer_no")).to_contain_text("C-9")
    # The sample has no e-mail or country: the preview says those fields would be left out.
    expect(page.get_by_test_id("preview-unmapped")).to_contain_text("No value for email, country in this record")
    screenshot(page, "journey-03-mapping-preview")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_role("alert")).to_contain_text("Saved the mapping")
    flow.refresh_from_db()
    assert flow.mapping == MAPPING

    # --- Test stage: a dry run, followed on its page -----------------------------------------------
    page.get_by_role("link", name="Back to the flow").click()
    page.get_by_test_id("promote-test").click()
    page.get_by_role("dialog").get_by_role("button", name="Move to Test (dry run)").click()
    expect(page.get_by_test_id("stage-badge").first).to_have_text("Test (dry run)")
    page.get_by_test_id("run-now").click()
    expect(page).to_have_url(RUN_PAGE)
    dry = Run.objects.get(flow=flow)
    progress = page.get_by_test_id("run-progress")
    expect(progress).to_contain_text("waiting for a worker")  # no worker yet: the work waits, recorded
    expect(progress).to_have_attribute("hx-trigger", "every 2s")
    screenshot(page, "journey-04-dry-run-queued")

    polls = []
    page.on("response", lambda r: polls.append(r) if r.url.endswith(f"/runs/{dry.pk}/progress/") else None)
    worker = start_worker("sync")
    wait_for_run(page, "Succeeded")
    assert polls, f"the run page never polled its progress (worker log: {worker.log_path})"
    assert polls[-1].headers.get("hx-refresh") == "true"  # it saw the end and reloaded itself once
    expect(progress).not_to_have_attribute("hx-trigger", re.compile("."))  # and stopped polling
    expect(page.get_by_role("progressbar", name="Run progress")).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_test_id("count-planned")).to_have_text("3")
    expect(page.get_by_test_id("count-created")).to_have_count(0)  # a dry run creates nothing
    expect(progress).to_contain_text("3 records read")
    expect(progress).to_contain_text("Dry run: writes nothing to the targets")

    # The dry-run report: every customer a create, with the values the ERP would get.
    report = page.get_by_test_id("outcome-table")
    expect(page.get_by_test_id("outcomes")).to_contain_text("Dry-run report: what a live run would change")
    expect(report.locator("tbody tr")).to_have_count(3)
    for number, name, email in [
        ("C-1", "Ada Lovelace", "ada@example.com"),
        ("C-2", "Grace Hopper", "grace.hopper@example.com"),  # as cleansing left it
        ("C-3", "Alan Turing", None),
    ]:
        row = report.locator("tr", has=page.get_by_role("link", name=number, exact=True))
        expect(row.get_by_test_id("outcome-status")).to_have_text("Planned (dry run)")
        expect(row.locator("td").nth(3)).to_have_text("Create")
        expect(row).to_contain_text(f"customer_no: — {number}")
        expect(row).to_contain_text(name)
        if email:
            expect(row).to_contain_text(f"email: — {email}")
        else:
            expect(row).not_to_contain_text("email")
    screenshot(page, "journey-05-dry-run-report")
    assert erp(erp_path, "SELECT count(*) FROM erp_writes") == [(0,)]  # a dry run writes nothing
    assert erp(erp_path, "SELECT count(*) FROM erp_customers") == [(0,)]

    # --- Live ---------------------------------------------------------------------------------------
    page.get_by_role("link", name=flow.name).first.click()
    page.get_by_test_id("promote-live").click()
    page.get_by_role("dialog").get_by_role("button", name="Move to Live").click()
    expect(page.get_by_role("alert")).to_contain_text("moved from Test (dry run) to Live")
    expect(page.get_by_test_id("stage-badge").first).to_have_text("Live")
    page.get_by_test_id("run-now").click()
    expect(page).to_have_url(RUN_PAGE)
    live = Run.objects.filter(flow=flow).latest("pk")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Run #{live.pk} of CRM customers to ERP")
    wait_for_run(page, "Finished with problems")
    expect(page.get_by_test_id("count-created")).to_have_text("2")
    expect(page.get_by_test_id("count-failed")).to_have_text("1")
    expect(page.get_by_test_id("count-updated")).to_have_text("0")
    expect(page.get_by_test_id("count-planned")).to_have_count(0)  # a live run plans nothing
    expect(page.get_by_test_id("run-progress")).to_contain_text("3 records read")
    records = page.get_by_test_id("outcome-table")
    turing = records.locator("tr", has=page.get_by_role("link", name="C-3", exact=True))
    expect(turing.get_by_test_id("outcome-status")).to_have_text("Quarantined")
    expect(turing).to_contain_text("NOT NULL constraint failed: erp_customers.email")
    screenshot(page, "journey-06-live-run")
    assert erp(erp_path, "SELECT * FROM erp_customers ORDER BY 1") == [
        ("C-1", "Ada Lovelace", "ada@example.com", "GB"),
        ("C-2", "Grace Hopper", "grace.hopper@example.com", "US"),
    ]

    # --- The dead-letter queue, the fix, the replay ---------------------------------------------------
    menu(page, "Dead-letter queue")
    queue = page.get_by_test_id("deadletter-table")
    expect(queue.locator("tbody tr")).to_have_count(1)
    waiting = queue.locator("tbody tr").first
    expect(waiting).to_contain_text("C-3")
    expect(waiting).to_contain_text("CRM customers to ERP → ERP staging")
    expect(waiting.get_by_test_id("outcome-status")).to_have_text("Quarantined")
    expect(waiting).to_contain_text("NOT NULL constraint failed: erp_customers.email")
    screenshot(page, "journey-07-dead-letter-queue")

    waiting.get_by_role("link", name="CRM customers to ERP").click()
    page.get_by_role("link", name="Edit mapping").click()
    alan = {"id": "C-3", "first_name": "Alan", "last_name": "Turing", "country": "GB"}
    page.locator("#id_sample").fill(json.dumps(alan))
    fill_mapping(page, FIXED_MAPPING)
    expect(mapped.locator("tr", has_text="email")).to_contain_text(FALLBACK_EMAIL)
    screenshot(page, "journey-08-mapping-fixed")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_role("alert")).to_contain_text("Saved the mapping")

    menu(page, "Dead-letter queue")
    queue.get_by_test_id("replay-row").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Replaying 1 record in run #")
    replay = Run.objects.get(flow=flow, trigger="replay")
    expect(alert).to_contain_text(f"Replaying 1 record in run #{replay.pk} of “{flow.name}”")
    expect(page.get_by_test_id("empty-state")).to_contain_text("Nothing is waiting")
    screenshot(page, "journey-09-replayed")
    alert.get_by_role("link", name=f"run #{replay.pk}").click()
    wait_for_run(page, "Succeeded")
    expect(page.get_by_test_id("count-created")).to_have_text("1")
    expect(page.get_by_test_id("count-failed")).to_have_text("0")
    screenshot(page, "journey-10-replay-run")

    # Delivered exactly once: one insert of C-3 reached the ERP, and nothing was written twice.
    assert erp(erp_path, "SELECT customer_no, op FROM erp_writes ORDER BY rowid") == [
        ("C-1", "insert"),
        ("C-2", "insert"),
        ("C-3", "insert"),
    ]
    assert erp(erp_path, "SELECT * FROM erp_customers WHERE customer_no = 'C-3'") == [
        ("C-3", "Alan Turing", FALLBACK_EMAIL, "GB")
    ]
    alan_outcomes = RecordOutcome.objects.filter(flow=flow, external_id="C-3").exclude(status=OutcomeStatus.PLANNED)
    assert list(alan_outcomes.values_list("status", "run_id")) == [(OutcomeStatus.DELIVERED, replay.pk)]
    assert [r.status for r in Run.objects.filter(flow=flow).order_by("pk")] == [
        RunStatus.SUCCEEDED,
        RunStatus.PARTIAL,
        RunStatus.SUCCEEDED,
    ]
    page.get_by_role("link", name=flow.name).first.click()
    page.get_by_test_id("recent-runs").get_by_role("link", name=f"#{live.pk}").click()
    expect(page.get_by_test_id("count-failed")).to_have_text("1")  # the run's history stays as it was
    expect(page.get_by_test_id("outcome-table").locator("tbody tr")).to_have_count(2)
    expect(page.get_by_test_id("replay-note")).to_contain_text("moves to the run that replays it")
    screenshot(page, "journey-11-live-run-after-replay")
    assert console_errors == []
