"""The demo landscape: the systems around the ERP, their connectors and the flows between them.

``ensure()`` creates what is missing and leaves what exists alone (people may
have changed a flow in the browser), so ``make run`` can call it every time.
Each peer lives in the data folder: the CRM's export folder, the WMS and the
reporting database as SQLite files, the shop's catalog folder; the ERP is a
real Tryton server (demo/tryton_server.py).
"""

from __future__ import annotations

import base64
import json
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from integrations import services
from integrations.choices import Stage, Trigger
from integrations.models import Connector, Flow, System
from masterdata.choices import Strategy
from masterdata.models import SurvivorshipRule

# Files and databases of the peers, below the data folder.
CRM_FOLDER = "demo/crm"
CATALOG_FOLDER = "demo/shop-catalog"
AVAILABILITY_FOLDER = "demo/shop-availability"


def peer_path(name: str) -> Path:
    return settings.VAR_DIR / "demo" / name


@dataclass(frozen=True)
class ErpAddress:
    url: str
    database: str
    login: str
    password: str


FLOW_NAMES = {
    "crm": "CRM customers to ERP and reporting",
    "catalog": "Shop catalog to ERP products",
    "shop_customers": "Shop customers to ERP and reporting",
    "orders": "Shop orders to ERP sales",
    "stock": "WMS stock to ERP and shop availability",
    "pos": "POS sales to ERP (pilot)",
}


def flow_named(key: str) -> Flow:
    return Flow.objects.get(name=FLOW_NAMES[key])


# --- Mappings ------------------------------------------------------------------------

PARTY_MAPPING = [
    {"target": "code", "op": "expression", "expression": "'C-' + str(golden_id)"},
    {
        "target": "name",
        "op": "expression",
        "expression": "company if company else (first_name + ' ' + last_name).strip()",
    },
    {"target": "first_name", "op": "copy", "from": "first_name", "default": ""},
    {"target": "last_name", "op": "copy", "from": "last_name", "default": ""},
    {"target": "company", "op": "copy", "from": "company", "default": ""},
    {"target": "email", "op": "copy", "from": "email", "default": ""},
    {"target": "phone", "op": "copy", "from": "phone", "default": ""},
    {"target": "street", "op": "copy", "from": "street", "default": ""},
    {"target": "postcode", "op": "copy", "from": "postcode", "default": ""},
    {"target": "city", "op": "copy", "from": "city", "default": ""},
    {"target": "country", "op": "copy", "from": "country", "default": ""},
    {"target": "golden_id", "op": "copy", "from": "golden_id"},
]
PRODUCT_MAPPING = [
    {"target": "code", "op": "copy", "from": "sku"},
    {"target": "name", "op": "copy", "from": "name"},
    {"target": "unit", "op": "copy", "from": "unit", "default": "pc"},
    {"target": "list_price", "op": "copy", "from": "price"},
]
ORDER_MAPPING = [
    {"target": "reference", "op": "copy", "from": "id"},
    {"target": "party", "op": "reference", "from": "customer", "entity": "customer"},
    {"target": "sale_date", "op": "copy", "from": "date"},
    {
        "target": "lines",
        "op": "each",
        "from": "items",
        "rules": [
            {"target": "product", "op": "reference", "from": "sku", "entity": "product"},
            {"target": "quantity", "op": "copy", "from": "qty"},
            {"target": "unit_price", "op": "copy", "from": "price"},
        ],
    },
]
# Deliberately wrong, for the dead-letter queue tour: the POS calls its SKU field "article".
POS_MAPPING_WITH_A_MISTAKE = [
    {"target": "reference", "op": "copy", "from": "id"},
    # Till sales are booked to each store's walk-in account, which the CRM keeps.
    {"target": "party", "op": "reference", "from": "store_customer", "entity": "customer", "system": "CRM"},
    {"target": "sale_date", "op": "copy", "from": "date"},
    {
        "target": "lines",
        "op": "each",
        "from": "items",
        "rules": [
            # The products are the shop catalog's: the tills use its SKUs.
            {"target": "product", "op": "reference", "from": "sku", "entity": "product", "system": "Web shop"},
            {"target": "quantity", "op": "copy", "from": "qty"},
            {"target": "unit_price", "op": "copy", "from": "price"},
        ],
    },
]
STOCK_MAPPING = [
    {"target": "id", "op": "copy", "from": "id"},
    {"target": "sku", "op": "copy", "from": "sku"},
    {"target": "location", "op": "copy", "from": "location"},
    {"target": "quantity", "op": "copy", "from": "quantity"},
]


# --- Peers that are plain files and tables -----------------------------------------------


def prepare_peer_stores() -> None:
    """The WMS and reporting databases with their tables, and the folders of the file exchanges."""
    peer_path("").mkdir(parents=True, exist_ok=True)
    for folder in (CRM_FOLDER, CATALOG_FOLDER, AVAILABILITY_FOLDER):
        for sub in ("in", "archive", "error", "out"):
            (Path(settings.JUNCTION_FILES_ROOT) / folder / sub).mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(peer_path("wms.sqlite3")) as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS stock_levels (id TEXT PRIMARY KEY, sku TEXT NOT NULL, "
            "location TEXT NOT NULL, quantity INTEGER NOT NULL, updated_at TEXT NOT NULL)"
        )
    with sqlite3.connect(peer_path("reporting.sqlite3")) as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS dim_customer (golden_id INTEGER PRIMARY KEY, code TEXT, name TEXT, "
            "email TEXT, phone TEXT, city TEXT, postcode TEXT, country TEXT)"
        )
        db.execute(
            "CREATE TABLE IF NOT EXISTS fact_sync_run (run_id INTEGER PRIMARY KEY, flow TEXT, stage TEXT, "
            "status TEXT, started_at TEXT, finished_at TEXT, read INTEGER, created INTEGER, updated INTEGER, "
            "unchanged INTEGER, quarantined INTEGER, failed INTEGER, dead_lettered INTEGER)"
        )


# --- Systems, connectors, flows ---------------------------------------------------------


def ensure(erp: ErpAddress, owner=None) -> dict[str, Flow]:
    """Create the landscape's systems, connectors and flows where missing; the flows by name."""
    prepare_peer_stores()
    owner = owner or get_user_model().objects.filter(username="engineer").first()
    with transaction.atomic():
        systems = {
            key: System.objects.get_or_create(
                name=name, defaults={"kind": kind, "environment": "sandbox", "locale": locale, "notes": notes}
            )[0]
            for key, name, kind, locale, notes in SYSTEMS
        }
        c = {}
        c["erp"] = _connector(
            systems["erp"],
            "Tryton ERP",
            "tryton",
            {"url": erp.url, "database": erp.database},
            {"login": erp.login, "password": erp.password},
        )
        c["crm"] = _connector(
            systems["crm"],
            "CRM customer export",
            "files",
            {"location": "local", "entities": {"customer": _inbound(CRM_FOLDER, "customers-*.csv", "id")}},
        )
        c["catalog"] = _connector(
            systems["shop"],
            "Shop catalog export",
            "files",
            {"location": "local", "entities": {"product": _inbound(CATALOG_FOLDER, "catalog-*.csv", "sku")}},
        )
        c["availability"] = _connector(
            systems["shop"],
            "Shop availability feed",
            "files",
            {
                "location": "local",
                "entities": {
                    "inventory_level": {
                        "outbound_folder": f"{AVAILABILITY_FOLDER}/out",
                        "format": "jsonl",
                        "key_field": "id",
                    }
                },
            },
        )
        c["shop_customers"] = _webhook(systems["shop"], "Shop customer webhook")
        c["shop_orders"] = _webhook(systems["shop"], "Shop order webhook")
        c["pos"] = _webhook(systems["pos"], "POS transactions webhook")
        c["wms"] = _connector(
            systems["wms"],
            "WMS stock table",
            "sql",
            {
                "dialect": "sqlite",
                "path": str(peer_path("wms.sqlite3")),
                "entities": {
                    "inventory_level": {"table": "stock_levels", "id_column": "id", "watermark_column": "updated_at"}
                },
            },
        )
        c["reporting"] = _connector(
            systems["bi"],
            "Reporting database",
            "sql",
            {
                "dialect": "sqlite",
                "path": str(peer_path("reporting.sqlite3")),
                "entities": {
                    "customer": {
                        "write_table": "dim_customer",
                        "id_column": "golden_id",
                        "columns": ["golden_id", "code", "name", "email", "phone", "city", "postcode", "country"],
                    }
                },
            },
        )
        flows = {
            "crm": _flow(
                FLOW_NAMES["crm"],
                "customer",
                c["crm"],
                [c["erp"], c["reporting"]],
                PARTY_MAPPING,
                trigger=Trigger.SCHEDULE,
            ),
            "catalog": _flow(
                FLOW_NAMES["catalog"], "product", c["catalog"], [c["erp"]], PRODUCT_MAPPING, trigger=Trigger.SCHEDULE
            ),
            "shop_customers": _flow(
                FLOW_NAMES["shop_customers"],
                "customer",
                c["shop_customers"],
                [c["erp"], c["reporting"]],
                PARTY_MAPPING,
            ),
            "orders": _flow(FLOW_NAMES["orders"], "sales_order", c["shop_orders"], [c["erp"]], ORDER_MAPPING),
            "stock": _flow(
                FLOW_NAMES["stock"],
                "inventory_level",
                c["wms"],
                [c["erp"], c["availability"]],
                STOCK_MAPPING,
                trigger=Trigger.SCHEDULE,
            ),
            "pos": _flow(
                FLOW_NAMES["pos"],
                "sales_order",
                c["pos"],
                [c["erp"]],
                POS_MAPPING_WITH_A_MISTAKE,
                stage=Stage.PILOT,
                pilot_filter=[{"field": "store", "op": "eq", "value": "S-01"}],
            ),
        }
        # A nickname typed in the CRM should not replace the full first name on the golden record.
        SurvivorshipRule.objects.get_or_create(
            entity="customer", field="first_name", defaults={"strategy": Strategy.MOST_COMPLETE}
        )
        if owner is not None:
            for obj in [*c.values(), *flows.values()]:
                services.grant_creator(obj, owner)
    return flows


SYSTEMS = [
    ("erp", "Tryton ERP", "erp", "en_US", "The ERP: finance, sales and stock. A local Tryton server in the demo."),
    ("crm", "CRM", "crm", "de_DE", "Sales team's CRM; exports its customers as CSV files."),
    ("shop", "Web shop", "ecommerce", "de_DE", "Posts signed webhooks for customers and orders; exports its catalog."),
    ("wms", "Warehouse (WMS)", "wms", "de_DE", "Counts stock per warehouse in its SQL database."),
    ("pos", "Store tills (POS)", "pos", "de_DE", "Posts each store transaction as a webhook."),
    ("bi", "Reporting (BI)", "bi", "en_US", "The reporting database the controllers' dashboards read."),
]


def _inbound(folder: str, pattern: str, id_field: str) -> dict:
    return {
        "inbound_folder": f"{folder}/in",
        "archive_folder": f"{folder}/archive",
        "error_folder": f"{folder}/error",
        "pattern": pattern,
        "id_field": id_field,
        "min_age_seconds": 0,
    }


def _connector(system: System, name: str, adapter: str, config: dict, credentials: dict | None = None) -> Connector:
    connector = Connector.objects.filter(name=name).first()
    if connector is None:
        connector = Connector(system=system, name=name, adapter=adapter, settings=config)
        if credentials:
            connector.set_credentials(credentials)
        connector.full_clean()
        connector.save()
    return connector


def _webhook(system: System, name: str) -> Connector:
    """A webhook connector; its signing secret is handed to the demo's sender through a file, as a
    real shop's administrator would paste it into the shop's settings."""
    connector = Connector.objects.filter(name=name).first()
    if connector is None:
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        connector = Connector(system=system, name=name, adapter="webhook", settings={"id_field": "id"})
        connector.set_credentials({"secret": secret})
        connector.full_clean()
        connector.save()
        senders = _senders()
        senders[name] = {"connector": connector.pk, "secret": secret}
        path = peer_path("webhook-senders.json")
        path.write_text(json.dumps(senders, indent=2))
        path.chmod(0o600)
    return connector


def _senders() -> dict:
    path = peer_path("webhook-senders.json")
    return json.loads(path.read_text()) if path.exists() else {}


def sender(name: str) -> dict:
    """The connector id and signing secret the demo's shop or tills use to post to ``name``."""
    return _senders()[name]


def _flow(name, entity, source, targets, mapping, *, trigger=None, stage=Stage.LIVE, **fields) -> Flow:
    flow = Flow.objects.filter(name=name).first()
    if flow is None:
        trigger = trigger or (Trigger.PUSH if source.adapter == "webhook" else Trigger.MANUAL)
        if trigger == Trigger.SCHEDULE:
            fields.setdefault("schedule_minutes", 1)
        flow = Flow(name=name, entity=entity, source=source, trigger=trigger, stage=stage, mapping=mapping, **fields)
        flow.full_clean()
        flow.save()
        flow.targets.set(targets)
    return flow
