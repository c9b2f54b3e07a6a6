"""What the systems around the ERP do all day, played by the demo: never part of the product.

The shop posts signed customer and order webhooks, the tills post store
transactions, the CRM drops CSV exports, the shop its catalog, the WMS counts
stock, and the reporting database receives the sync facts. Everything reaches
Junction the way a real peer's data would: over HTTP, as files, or in a SQL
table, never by writing Junction's own tables.
"""

from __future__ import annotations

import csv
import json
import logging
import random
import sqlite3
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from django.conf import settings

from integrations.adapters.webhook import WebhookAdapter

from . import data, landscape

log = logging.getLogger("demo.traffic")
UNKNOWN_SKU = "SKU-9001"  # ordered before the catalog has it: the order waits for it
LATE_PRODUCT = {
    "sku": UNKNOWN_SKU,
    "name": "Limited edition beans",
    "unit": "kg",
    "gtin": "",
    "price": "29.00",
    "currency": "EUR",
    "weight": "1.0",
}


class Peers:
    """The demo's shop, tills, CRM, catalog and WMS, talking to Junction at ``base_url``."""

    def __init__(self, base_url: str, seed: int = data.SEED):
        self.base_url = base_url.rstrip("/")
        self.world = data.build(seed)
        self.rng = random.Random(seed + 99)
        self.http = httpx.Client(timeout=10)
        self.files_root = Path(settings.JUNCTION_FILES_ROOT)
        self.marker = landscape.peer_path("seeded.json")

    # --- first start: the exports every system has already made --------------------

    def seed(self) -> None:
        """The CRM's and the shop's first exports, the WMS's stock, the shop's customer accounts. Once."""
        done = json.loads(self.marker.read_text()) if self.marker.exists() else {}
        if not done.get("files"):
            self.write_csv(landscape.CRM_FOLDER, "customers", data.CRM_COLUMNS, data.crm_rows(self.world))
            catalog = data.catalog_rows(self.world)
            self.write_csv(landscape.CATALOG_FOLDER, "catalog", list(catalog[0]), catalog)
            self.count_stock(everything=True)
            done["files"] = True
            self.marker.write_text(json.dumps(done))
        if not done.get("shop_customers"):
            for customer in data.shop_customers(self.world):
                self.post("Shop customer webhook", customer)
            done["shop_customers"] = True
            self.marker.write_text(json.dumps(done))

    def write_csv(self, folder: str, name: str, columns: list[str], rows: list[dict]) -> Path:
        """Written under a dot name, then renamed: the files connector never reads a half-written file."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        final = self.files_root / folder / "in" / f"{name}-{stamp}.csv"
        partial = final.with_name("." + final.name)
        with partial.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        partial.rename(final)
        return final

    # --- every tick --------------------------------------------------------------

    def tick(self, n: int) -> None:
        self.order(unknown_sku=n % 15 == 7)
        if n % 3 == 0:
            self.till_transaction()
        if n % 6 == 0:
            self.count_stock()
        if n % 12 == 0:
            self.report_sync_facts()
        if n % 40 == 20:
            self.crm_address_change()
        if n % 15 == 12:  # the catalog catches up with the product ordered at n % 15 == 7
            self.write_csv(landscape.CATALOG_FOLDER, "catalog", list(LATE_PRODUCT), [LATE_PRODUCT])

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Peers:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def order(self, unknown_sku: bool = False, customer: dict | None = None) -> None:
        """One shop order of 1 to 3 lines, for ``customer`` (one of the shop's accounts) or a random one."""
        customer = customer or self.rng.choice(data.shop_customers(self.world))
        products = self.rng.sample(self.world.products, self.rng.randint(1, 3))
        items = [{"sku": p.sku, "qty": self.rng.randint(1, 4), "price": str(p.price)} for p in products]
        if unknown_sku:
            items.append({"sku": UNKNOWN_SKU, "qty": 1, "price": LATE_PRODUCT["price"]})
        order = {
            "id": f"WEB-{uuid.uuid4().hex[:10].upper()}",
            "customer": customer["id"],
            "date": datetime.now(UTC).date().isoformat(),
            "currency": "EUR",
            "items": items,
        }
        self.post("Shop order webhook", order)

    def till_transaction(self) -> None:
        store = self.rng.choice(list(data.STORES))
        products = self.rng.sample(self.world.products, self.rng.randint(1, 2))
        transaction = {
            "id": f"POS-{store}-{uuid.uuid4().hex[:8].upper()}",
            "store": store,
            "store_customer": f"CRM-WALKIN-{store}",
            "date": datetime.now(UTC).date().isoformat(),
            # The tills call the SKU "article": the pilot flow's mapping still says "sku".
            "items": [{"article": p.sku, "qty": 1, "price": str(p.price)} for p in products],
        }
        self.post("POS transactions webhook", transaction)

    def count_stock(self, everything: bool = False) -> None:
        """The WMS's cycle count: quantities change, ``updated_at`` moves, Junction reads the changes."""
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        pairs = [(p.sku, wh) for p in self.world.products for wh in data.WAREHOUSES]
        if not everything:
            pairs = self.rng.sample(pairs, 3)
        with sqlite3.connect(landscape.peer_path("wms.sqlite3")) as db:
            db.executemany(
                "INSERT INTO stock_levels (id, sku, location, quantity, updated_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET quantity = excluded.quantity, updated_at = excluded.updated_at",
                [(f"{sku}@{wh}", sku, wh, self.rng.randint(0, 250), now) for sku, wh in pairs],
            )

    def crm_address_change(self) -> None:
        """Someone moved: the CRM exports the changed customer again."""
        rows = data.crm_rows(self.world)
        row = dict(self.rng.choice([r for r in rows if not r["id"].startswith("CRM-BAD")]))
        row["street"] = f"{self.rng.randint(1, 99)} {self.rng.choice(['Lindenallee', 'Hafenstraße', 'Parkweg'])}"
        self.write_csv(landscape.CRM_FOLDER, "customers", data.CRM_COLUMNS, [row])

    def report_sync_facts(self) -> None:
        """The reporting database's copy of the run history, for the controllers' dashboards."""
        from integrations.models import Run

        runs = Run.objects.select_related("flow").order_by("-pk")[:200]
        with sqlite3.connect(landscape.peer_path("reporting.sqlite3")) as db:
            db.executemany(
                "INSERT OR REPLACE INTO fact_sync_run VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        r.pk,
                        r.flow.name,
                        r.stage,
                        r.status,
                        r.started_at and r.started_at.isoformat(),
                        r.finished_at and r.finished_at.isoformat(),
                        r.read,
                        r.created,
                        r.updated,
                        r.unchanged,
                        r.quarantined,
                        r.failed,
                        r.dead_lettered,
                    )
                    for r in runs
                ],
            )

    # --- HTTP ---------------------------------------------------------------------

    def post(self, webhook: str, record: dict) -> None:
        """One signed webhook (Standard Webhooks), as the shop or the tills send it."""
        sender = landscape.sender(webhook)
        body = json.dumps(record).encode()
        event_id, stamp = f"evt_{uuid.uuid4().hex}", int(time.time())
        signer = WebhookAdapter({}, {"secret": sender["secret"]})
        headers = {
            "content-type": "application/json",
            "webhook-id": event_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": signer.sign(event_id, stamp, body),
        }
        url = f"{self.base_url}/api/v1/inbound/{sender['connector']}/"
        try:
            response = self.http.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("%s: %s not reached (%s); the shop will send the next one", webhook, url, exc)
            return
        if response.status_code >= 300:
            log.warning("%s answered %s: %s", webhook, response.status_code, response.text[:200])


def wait_until_up(base_url: str, timeout: float = 300) -> None:
    """The shop starts sending once Junction answers (it is started beside it by ``make run``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base_url}/healthz", timeout=5)
            return
        except httpx.HTTPError:
            time.sleep(2)
    raise TimeoutError(f"Junction did not answer at {base_url} within {timeout:.0f} s")


def wait_for_master_data(timeout: float = 180) -> None:
    """Orders name their customer and products: let the shop's accounts and catalog reach the ERP first."""
    from integrations.choices import OutcomeStatus
    from integrations.models import RecordOutcome

    deadline = time.monotonic() + timeout
    flows = [landscape.flow_named("shop_customers"), landscape.flow_named("catalog")]
    while time.monotonic() < deadline:
        if all(
            RecordOutcome.objects.filter(flow=flow).exists()
            and not RecordOutcome.objects.filter(flow=flow, status=OutcomeStatus.PENDING).exists()
            for flow in flows
        ):
            return
        time.sleep(3)
    log.warning("the shop's customers and catalog have not all reached the ERP yet; orders may wait for them")


def run_forever(base_url: str, interval: float, ticks: int | None = None) -> None:
    wait_until_up(base_url)
    from . import erp

    erp.ensure_stock_locations()
    with Peers(base_url) as peers:
        peers.seed()
        wait_for_master_data()
        n = 0
        while ticks is None or n < ticks:
            n += 1
            peers.tick(n)
            time.sleep(interval)
