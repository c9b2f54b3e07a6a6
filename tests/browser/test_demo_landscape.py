"""The demo landscape of ``make run``, in a real browser: the dashboard shows runs with their real
counts, a steward merges a duplicate from the CRM's export, and the merged customer's next order
reaches the ERP under the surviving party.

Nothing is faked: the ERP is a real Tryton server (a fresh copy of the cached template), the
landscape is the demo's own (``demo.landscape.ensure``), its peers are the demo's own players
(``demo.traffic.Peers``: CSV files for the CRM and the catalog, signed webhooks for the shop),
the runs are done by a ``celery worker`` process on the test database and the configured broker,
and Tryton is read back over JSON-RPC.

Which pair is merged, and why: the CRM's export holds some people twice, typed again with a
nickname, a typo or an abbreviated street; the shop knows some of the same people. The test
merges a pair of two CRM records where the shop's customer account is linked to the record that
does *not* survive (the steward's merge keeps the older record). Before the merge the shop's
orders for that customer went to the ERP party of the record that is merged away; that party
and its delivery cross-reference still exist afterwards, so only an engine that follows the merge
sends the next order to the survivor's party. (Had the shop's customer been on the surviving
record, the order would go to the same party before and after, and the test would prove nothing.)

To make that pair exist on every run, the CRM's export is loaded before the shop's accounts
(the shop's customer flow is paused meanwhile, as an engineer would): the CRM's records are then
the older ones, and the data's fixed seed decides the rest. Screenshots land in
``tests/artifacts/landscape-*.png``.
"""

import json
import re
import uuid
from collections import Counter
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connections
from playwright.sync_api import expect

from conftest import wait_for
from demo import landscape
from demo.traffic import Peers
from integrations.choices import OutcomeStatus, RunStatus, Stage
from integrations.engine import actions
from integrations.models import RecordOutcome, Run
from integrations.tests.adapters.tryton_peer import tryton  # noqa: F401 (the session's Tryton ERP)
from masterdata.choices import CandidateStatus
from masterdata.models import DuplicateCandidate, GoldenRecord, SourceRecord
from tests.browser.conftest import TABLET, login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.worker]

WORKER_MS = 40_000  # a run's way through the worker
POLL_MS = 25_000  # a run finishing between two polls of the dashboard shows at the next one
DASHBOARD_POLL_SECONDS = 2  # the dashboard's 10 s, shortened here: waiting for the next poll is all it costs
FINISHED = (RunStatus.SUCCEEDED, RunStatus.PARTIAL, RunStatus.FAILED)


def fresh(query):
    connections.close_all()  # see what the worker committed, not an old snapshot
    return query()


def runs_finished(flow) -> bool:
    return fresh(lambda: Run.objects.filter(flow=flow).exists() and not unfinished(flow))


def unfinished(flow) -> bool:
    return Run.objects.filter(flow=flow).exclude(status__in=FINISHED).exists()


@pytest.fixture
def demo_folders(settings, tmp_path, monkeypatch):
    """The peers' files and databases in this test's own folder (the worker reads the same files)."""
    settings.VAR_DIR = tmp_path  # demo.landscape.peer_path: the WMS and reporting databases, webhook secrets
    settings.JUNCTION_FILES_ROOT = tmp_path / "files"
    monkeypatch.setenv("JUNCTION_FILES_ROOT", str(tmp_path / "files"))
    return tmp_path


def place_order(peers: Peers, customer: str) -> dict:
    """An order from the shop for ``customer``, sent as ``Peers.order()`` sends one (that picks a random customer)."""
    products = peers.world.products[:2]
    order = {
        "id": f"WEB-{uuid.uuid4().hex[:10].upper()}",
        "customer": customer,
        "date": date.today().isoformat(),
        "currency": "EUR",
        "items": [{"sku": p.sku, "qty": qty, "price": str(p.price)} for p, qty in zip(products, (2, 1), strict=True)],
    }
    peers.post("Shop order webhook", order)
    return order


def wait_for_delivery(flow, external_id: str) -> RecordOutcome:
    def delivered():
        return RecordOutcome.objects.filter(flow=flow, external_id=external_id, status=OutcomeStatus.DELIVERED).first()

    outcome = wait_for(lambda: fresh(delivered), timeout=WORKER_MS / 1000, message=f"{external_id} delivered")
    wait_for(lambda: runs_finished(flow), timeout=WORKER_MS / 1000, message=f"the runs of {flow} to finish")
    return outcome


def sale_in_tryton(erp, order: dict) -> tuple[dict, dict, list[dict]]:
    """The sale Tryton holds for ``order``, its party, and its lines (product code, quantity, price)."""
    with erp.client() as client:
        (sale,) = client.search_read("sale.sale", [("reference", "=", order["id"])], ["state", "party", "lines"])
        (party,) = client.search_read("party.party", [("id", "=", sale["party"])], ["code", "name"])
        lines = client.search_read("sale.line", [("sale", "=", sale["id"])], ["product", "quantity", "unit_price"])
        codes = {p["id"]: p["code"] for p in client.search_read("product.product", [], ["code"])}
    return sale, party, [{"sku": codes[x["product"]], "qty": x["quantity"], "price": x["unit_price"]} for x in lines]


def assert_reached_tryton(erp, order: dict, golden: GoldenRecord) -> None:
    sale, party, lines = sale_in_tryton(erp, order)
    assert sale["state"] in ("confirmed", "processing"), sale
    assert party["code"] == f"C-{golden.pk}", (party, golden)
    assert sorted((x["sku"], x["qty"], Decimal(x["price"])) for x in lines) == sorted(
        (item["sku"], float(item["qty"]), Decimal(item["price"])) for item in order["items"]
    )


# --- The dashboard, checked against the database ------------------------------------------------


def text(locator) -> str:
    return re.sub(r"\s+", " ", locator.inner_text()).strip()


def number(locator) -> int:
    """The figure a cell or tile starts with ("1,234 read" → 1234)."""
    return int(re.match(r"[\d,]+", text(locator)).group().replace(",", ""))


def assert_dashboard_matches_the_database(page) -> None:
    """Every figure on the (engineer's) dashboard, recomputed here from the runs themselves."""
    runs = fresh(lambda: list(Run.objects.select_related("flow")))
    live = [r for r in runs if r.stage != Stage.TEST]
    delivered = Counter()
    for run in live:
        delivered[run.flow_id] += run.created + run.updated + run.unchanged
    assert number(page.get_by_test_id("stat-delivered")) == sum(delivered.values()) > 0
    assert number(page.get_by_test_id("stat-quarantined")) == sum(r.quarantined + r.failed for r in live)
    assert number(page.get_by_test_id("stat-dead")) == sum(r.dead_lettered for r in live)
    waiting = fresh(lambda: RecordOutcome.objects.filter(status__in=["dead", "quarantined"]).count())
    assert number(page.get_by_test_id("stat-waiting")) == waiting
    statuses = Counter(r.status for r in runs)
    for status in FINISHED:
        assert number(page.get_by_test_id(f"chart-total-{status}")) == statuses[status]
    rows = page.get_by_test_id("flow-row")
    by_flow = {}
    for run in runs:  # the last run of each flow
        by_flow[run.flow_id] = max(run, by_flow.get(run.flow_id, run), key=lambda r: r.pk)
    assert rows.count() == 6
    for flow_id, last in by_flow.items():
        row = page.locator(f"[data-testid=flow-row][data-flow='{flow_id}']")
        expect(row.get_by_test_id("run-status")).to_have_attribute("data-status", last.status)
        assert number(row.get_by_test_id("last-read")) == last.read
        assert text(row.get_by_test_id("last-delivered")) == f"{last.created + last.updated + last.unchanged} delivered"
        assert number(row.get_by_test_id("delivered-24h")) == delivered[flow_id]


def chart_fits(page) -> bool:
    room, drawn = page.get_by_test_id("runs-chart").evaluate("e => [e.clientWidth, e.firstElementChild.offsetWidth]")
    return room == drawn


def point_at_the_last_hour(page) -> None:
    """Hovering the chart's last bar says that hour's runs, as the chart's data has them."""
    data = json.loads(page.locator("#runs-chart-data").text_content())
    said = ", ".join(f"{s['counts'][-1]} {s['label'].lower()}" for s in data["series"])
    assert sum(s["counts"][-1] for s in data["series"]) > 0

    def pointed():  # again if a poll swapped the chart in between
        box = page.get_by_test_id("runs-chart").bounding_box()
        page.mouse.move(box["x"] + box["width"] - 14, box["y"] + box["height"] / 2)
        return said in (page.locator("[data-chart-readout]").text_content() or "")

    wait_for(pointed, timeout=5, interval=0.5, message=f"the chart's readout to say {said!r}")


@pytest.fixture
def fast_dashboard_poll(monkeypatch):
    """The dashboard's health panel polls every DASHBOARD_POLL_SECONDS (the live server runs in this process)."""
    monkeypatch.setattr("monitoring.views.POLL_SECONDS", DASHBOARD_POLL_SECONDS)


@pytest.fixture
def demo(live_server, personas, start_worker, tryton, demo_folders, fast_dashboard_poll):  # noqa: F811
    """The landscape with its first exports made and a worker running; the shop's accounts wait.

    ``flows`` by the demo's keys, the demo's ``peers``, the ``worker`` process, the Tryton ``erp``.

    The shop's customer flow is paused while the CRM's export comes first (see the module's docstring).
    """
    from config.celery import app

    app.control.purge()  # messages other tests left in this broker are not this landscape's
    erp = landscape.ErpAddress(tryton.url, tryton.database, tryton.login, tryton.password)
    flows = landscape.ensure(erp, owner=personas["engineer"])
    actions.promote(flows["shop_customers"], Stage.PAUSED)
    peers = Peers(live_server.url)
    peers.seed()  # the CRM's and the catalog's exports, the WMS's stock, the shop's 40 customer accounts
    yield SimpleNamespace(flows=flows, peers=peers, worker=start_worker("sync"), erp=tryton)
    # Its keep-alive connection would hold a live-server thread, and that thread a database
    # connection, past the test database's teardown (Peers has no close() of its own).
    peers.http.close()


def engineer_runs_the_crm_export(page, live_server, flows) -> None:
    """From an empty dashboard to the CRM flow's page, "Run now", and the run page following the worker."""
    login(page, live_server, "engineer")
    expect(page.get_by_test_id("flow-row")).to_have_count(6)
    expect(page.get_by_test_id("chart-empty")).to_contain_text("No run has finished in the last 24 hours")
    screenshot(page, "landscape-01-dashboard-before-any-run")
    actions.start_run(flows["catalog"])  # scheduled in `make run`; started here
    page.get_by_role("link", name=landscape.FLOW_NAMES["crm"]).click()
    page.get_by_test_id("run-now").click()
    expect(page.get_by_test_id("run-status").first).to_have_text("Finished with problems", timeout=WORKER_MS)
    crm_run = Run.objects.get(flow=flows["crm"])
    expect(page.get_by_test_id("count-quarantined")).to_have_text(str(crm_run.quarantined))  # the CRM's bad rows


def steward_merges(page, live_server, candidate: DuplicateCandidate, shop_customer: str) -> None:
    """From the steward's dashboard to the review queue, the side-by-side page and the merge."""
    page.context.clear_cookies()
    login(page, live_server, "steward")
    open_pairs = DuplicateCandidate.objects.filter(status=CandidateStatus.OPEN).count()
    expect(page.get_by_test_id("stat-duplicates")).to_have_text(str(open_pairs))
    expect(page.get_by_test_id("empty-state")).to_contain_text("No flows shared with you")  # stewards see no flows
    screenshot(page, "landscape-03-steward-dashboard")
    page.get_by_test_id("review-link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Review queue")
    screenshot(page, "landscape-04-review-queue")
    pair = page.get_by_test_id("review-queue").locator("tbody tr", has=page.locator(f"a[href$='/{candidate.pk}/']"))
    pair.get_by_role("link", name="Compare").click()
    survivor_sources, absorbed_sources = page.get_by_test_id("sources-1"), page.get_by_test_id("sources-2")
    for source in SourceRecord.objects.filter(golden=candidate.left):
        expect(survivor_sources).to_contain_text(f"CRM · {source.external_id}")
    expect(absorbed_sources).to_contain_text(f"Web shop · {shop_customer}")
    expect(absorbed_sources).to_contain_text("CRM · CRM-")
    screenshot(page, "landscape-05-side-by-side")
    page.get_by_role("button", name=re.compile("^Merge into")).click()
    expect(page.get_by_role("alert")).to_contain_text(f"(#{candidate.right.pk}) into")
    screenshot(page, "landscape-06-merged")
    candidate.right.refresh_from_db()
    assert candidate.right.merged_into_id == candidate.left.pk


def test_dashboard_runs_a_steward_merge_and_the_next_order_under_the_survivor(page, live_server, demo, console_errors):
    flows, peers, worker, erp = demo.flows, demo.peers, demo.worker, demo.erp
    engineer_runs_the_crm_export(page, live_server, flows)

    # The shop's accounts and a first order, followed on the dashboard without a reload.
    page.get_by_role("link", name="Dashboard").click()
    page.evaluate("window.stillTheSamePage = true")
    actions.promote(flows["shop_customers"], Stage.LIVE)
    actions.start_run(flows["shop_customers"], trigger="push")  # the 40 accounts that waited
    wait_for(lambda: runs_finished(flows["shop_customers"]), timeout=WORKER_MS / 1000, message="the shop's accounts")
    candidate, shop_customer = pair_with_the_shop_customer_merged_away()
    first = place_order(peers, shop_customer)
    wait_for_delivery(flows["orders"], first["id"])
    orders_row = page.locator(f"[data-testid=flow-row][data-flow='{flows['orders'].pk}']")
    expect(orders_row.get_by_test_id("run-status")).to_have_text("Succeeded", timeout=POLL_MS)
    assert page.evaluate("window.stillTheSamePage") is True, "the dashboard reloaded instead of refreshing its panel"
    assert_dashboard_matches_the_database(page)
    point_at_the_last_hour(page)
    screenshot(page, "landscape-02-dashboard-with-runs")
    # Before the merge, the shop's customer is the record that will be merged away: so is the ERP party.
    assert_reached_tryton(erp, first, candidate.right)

    steward_merges(page, live_server, candidate, shop_customer)

    # The merged customer's next order reaches the ERP under the surviving party.
    second = place_order(peers, shop_customer)
    wait_for_delivery(flows["orders"], second["id"])
    assert_reached_tryton(erp, second, candidate.left)
    page.context.clear_cookies()
    login(page, live_server, "engineer")
    expect(orders_row.get_by_test_id("delivered-24h")).to_have_text("2")
    assert_dashboard_matches_the_database(page)
    screenshot(page, "landscape-07-dashboard-after-the-merge")
    page.set_viewport_size(TABLET)  # the chart follows the page's width
    wait_for(lambda: chart_fits(page), timeout=5, message="the chart to fit its narrower card")
    screenshot(page, "landscape-08-dashboard-tablet")
    assert console_errors == [], f"console errors (worker log: {worker.log_path})"


def pair_with_the_shop_customer_merged_away() -> tuple[DuplicateCandidate, str]:
    """An open pair of two CRM records whose newer one (merged away) holds the shop's account too."""
    sources = fresh(lambda: list(SourceRecord.objects.filter(golden__isnull=False).select_related("system")))
    held = {}
    for source in sources:
        held.setdefault(source.golden_id, []).append(source)
    for candidate in DuplicateCandidate.objects.filter(status=CandidateStatus.OPEN).select_related("left", "right"):
        left, right = held.get(candidate.left_id, []), held.get(candidate.right_id, [])
        shop = [s.external_id for s in right if s.system.name == "Web shop"]
        if shop and left and all(s.system.name == "CRM" for s in left) and any(s.system.name == "CRM" for s in right):
            return candidate, shop[0]
    pytest.fail("no open pair of CRM records with the shop's customer on the newer one")
