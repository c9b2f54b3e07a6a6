"""A small integration landscape for engine tests: a webhook source, SQLite tables as real targets.

The SQL target is a real SQLite database file written through the SQL adapter
(SQLAlchemy), so loads, upserts and database errors are the real thing.
"""

import sqlite3
import time
import uuid
from pathlib import Path

from integrations.adapters.webhook import WebhookAdapter
from integrations.choices import Stage, Trigger
from integrations.engine import actions, pipeline
from integrations.models import Connector, Flow, InboundEvent, Run
from integrations.tests.factories import SystemFactory

SECRET = "whsec_" + "c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cw=="  # base64 of a test-only key

CUSTOMER_MAPPING = [
    {"target": "key", "op": "copy", "from": "golden_id"},
    {"target": "last_name", "op": "copy", "from": "last_name"},
    {"target": "email", "op": "copy", "from": "email"},
    {"target": "country", "op": "copy", "from": "country", "default": "ZZ"},
]


def make_target_db(path: Path) -> Path:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE customers (key TEXT PRIMARY KEY, last_name TEXT, email TEXT, country TEXT)")
        db.execute("CREATE TABLE orders (id TEXT PRIMARY KEY, customer TEXT, total TEXT)")
    return path


def target_rows(path: Path, table: str = "customers") -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()  # noqa: S608 - test-owned table name


def webhook_connector(name: str = "Shop webhook") -> Connector:
    connector = Connector(system=SystemFactory(name=f"{name} system"), name=name, adapter="webhook")
    connector.settings = {"id_field": "id", "tolerance_seconds": 300}
    connector.set_credentials({"secret": SECRET})
    connector.save()
    return connector


def sql_connector(path: Path, name: str = "Reporting DB") -> Connector:
    return Connector.objects.create(
        system=SystemFactory(name=f"{name} system"),
        name=name,
        adapter="sql",
        settings={
            "dialect": "sqlite",
            "path": str(path),
            "entities": {
                "customer": {"write_table": "customers", "id_column": "key"},
                "sales_order": {"write_table": "orders", "id_column": "id"},
            },
        },
    )


def customer_flow(source: Connector, target: Connector, stage: str = Stage.LIVE, **fields) -> Flow:
    fields = {"name": f"Customers {uuid.uuid4().hex[:6]}", "mapping": CUSTOMER_MAPPING, **fields}
    fields = {"max_attempts": 3, "retry_base_seconds": 1, **fields}
    flow = Flow.objects.create(
        entity="customer",
        source=source,
        trigger=Trigger.PUSH,
        stage=stage,
        **fields,
    )
    flow.targets.add(target)
    return flow


def staged_run(target: Connector, records: list[dict]) -> Run:
    """A live run of a new pushed customer flow whose ``records`` are staged for ``target``
    (their own load message sent, not yet delivered)."""
    source = webhook_connector()
    flow = customer_flow(source, target)
    InboundEvent.objects.create(connector=source, event_id="e-1", records=list(records))
    run = actions.start_run(flow)
    pipeline.extract(pipeline.take_extraction(run.pk))
    return run


def signed_headers(body: bytes, event_id: str | None = None, timestamp: int | None = None, secret: str = SECRET):
    adapter = WebhookAdapter({}, {"secret": secret})
    event_id = event_id or uuid.uuid4().hex
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": adapter.sign(event_id, timestamp, body),
    }


def stock_source(path, rows: int) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE stock (id TEXT PRIMARY KEY, sku TEXT, location TEXT, qty INTEGER, updated_at TEXT)")
        db.executemany(
            "INSERT INTO stock VALUES (?, ?, ?, ?, ?)",
            (
                (f"S{n:06d}", f"SKU-{n % 500}", f"WH{n % 7}", n % 97, f"2026-11-01T00:{n // 600:02d}:00")
                for n in range(rows)
            ),
        )
        db.execute("CREATE TABLE stock_copy (id TEXT PRIMARY KEY, sku TEXT, location TEXT, qty INTEGER)")


def stock_flow(path, batch_size: int = 200) -> Flow:
    entity = {"table": "stock", "id_column": "id", "watermark_column": "updated_at", "write_table": "stock_copy"}
    source = Connector.objects.create(
        system=SystemFactory(name="WMS"),
        name="WMS stock",
        adapter="sql",
        settings={"dialect": "sqlite", "path": str(path), "entities": {"inventory_level": entity}},
    )
    target = Connector.objects.create(
        system=SystemFactory(name="Shop"),
        name="Shop stock",
        adapter="sql",
        settings={
            "dialect": "sqlite",
            "path": str(path),
            "entities": {"inventory_level": {"write_table": "stock_copy", "id_column": "id"}},
        },
    )
    flow = Flow.objects.create(
        name="Stock levels",
        entity="inventory_level",
        source=source,
        trigger=Trigger.MANUAL,
        stage=Stage.LIVE,
        batch_size=batch_size,
        mapping=[{"target": c, "op": "copy", "from": c} for c in ("id", "sku", "location", "qty")],
    )
    flow.targets.add(target)
    return flow
