"""ERP delivery throughput: records per second into a real Tryton, batched (100 per call) and one by one.

    .venv/bin/python bench/erp.py                          # 500 parties and products, 100 orders; one by one 100/100/30
    .venv/bin/python bench/erp.py --records 1000 --orders 200 --single 200 --single-orders 50
    .venv/bin/python bench/erp.py --no-engine              # the adapter only

Needs Tryton in ``.venv-tryton`` (``make peers``). A fresh Tryton database is copied from the
cached template (``demo/tryton_server.py``; built once, about 45 s) into ``bench/results/erp-tryton``
and served on a free loopback port for this run only.

Two paths, each with the connector's ``batch_size`` at 100 and at 1:

- **adapter**: ``TrytonAdapter.write()`` called directly with every record, as a worker's load step
  calls it; the adapter cuts the records into batches of ``batch_size``.
- **engine**: Junction's load path in this process: the records are pushed as webhook events and
  staged through master data and the demo's mappings (not timed), then ``pipeline.load`` claims rows
  from the outbox (the flow's batch size is the same), writes them through the adapter and records
  results and cross-references, on a scratch SQLite database in ``bench/results/var-erp``.

Per entity: **create** (new codes), then **re-send** of the same records (the engine: the same rows
delivered again, as after a lost acknowledgement), which Tryton finds by code and leaves alone
(``unchanged``). Parties carry an address and an email (and a phone on the adapter path); products are goods with a list
price; sales orders have three lines and are quoted and confirmed (Tryton's workflow is part of the
figure). "calls/rec" is JSON-RPC requests per record, counted by the adapter's client.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
VAR = RESULTS / "var-erp"
BATCHED, ONE_BY_ONE = 100, 1


@dataclass
class Row:
    path: str
    entity: str
    batch: int
    records: int
    create_s: float
    create_calls: int
    resend_s: float
    resend_calls: int
    problems: str = ""

    def cells(self) -> list[str]:
        n = self.records
        return [
            self.path,
            self.entity,
            str(self.batch),
            str(n),
            f"{self.create_s:.2f}",
            f"**{n / self.create_s:.0f}**",
            f"{self.create_calls / n:.2f}",
            f"{self.resend_s:.2f}",
            f"**{n / self.resend_s:.0f}**",
            f"{self.resend_calls / n:.2f}",
            self.problems or "",
        ]


HEADER = [
    "path",
    "entity",
    "batch",
    "records",
    "create s",
    "create rec/s",
    "calls/rec",
    "re-send s",
    "re-send rec/s",
    "calls/rec",
    "problems",
]


def table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    return "\n".join(lines + ["| " + " | ".join(row.cells()) + " |" for row in rows])


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- Payloads --------------------------------------------------------------------------------


def party(tag: str, n: int) -> dict:
    return {
        "code": f"{tag}-P{n:05d}",
        "name": f"Bench customer {tag} {n}",
        "street": f"Hauptstraße {n % 200 + 1}",
        "postcode": f"{10115 + n % 80}",
        "city": "Berlin",
        "country": "DE",
        "email": f"customer{n}.{tag.lower()}@example.com",
        "phone": f"+49 30 {1000000 + n}",
    }


def product(tag: str, n: int) -> dict:
    return {"code": f"{tag}-SKU{n:05d}", "name": f"Bench product {n}", "unit": "pc", "list_price": f"{5 + n % 50}.90"}


def order(tag: str, n: int, party_id: str, product_ids: list[str]) -> dict:
    lines = [
        {"product": product_ids[(n * 3 + k) % len(product_ids)], "quantity": k + 1, "unit_price": f"{9 + k}.50"}
        for k in range(3)
    ]
    return {"reference": f"{tag}-ORD{n:05d}", "party": party_id, "sale_date": "2026-05-04", "lines": lines}


# --- The adapter path --------------------------------------------------------------------------


def adapter_path(server, sizes: dict[int, tuple[int, int]]) -> list[Row]:
    """``TrytonAdapter.write`` with batch_size 100 and 1: parties, products, then orders on them."""
    from integrations.adapters.tryton import TrytonAdapter

    rows = []
    for batch, (records, orders) in sizes.items():
        tag = f"A{batch}"
        settings = {"url": server.url, "database": server.database, "batch_size": batch}
        with TrytonAdapter(settings, {"login": server.login, "password": server.password}) as adapter:
            adapter.client.login()  # not timed: the engine opens a session once per load
            parties = measure(adapter, rows, "customer", [party(tag, n) for n in range(records)])
            products = measure(adapter, rows, "product", [product(tag, n) for n in range(records)])
            sales = [order(tag, n, parties[n % records], products) for n in range(orders)]
            measure(adapter, rows, "sales_order", sales)
    return rows


def measure(adapter, rows: list[Row], entity: str, payloads: list[dict]) -> list[str]:
    """Write ``payloads`` (all created), then again (all unchanged); adds a Row; the Tryton ids."""
    from integrations.adapters.base import OutRecord

    out = [OutRecord(key=f"{entity}-{n}", payload=p) for n, p in enumerate(payloads)]
    timings, problems = [], []
    for expected in ("created", "unchanged"):
        calls, start = adapter.client.calls, time.perf_counter()
        results = adapter.write(entity, out)
        timings.append((time.perf_counter() - start, adapter.client.calls - calls))
        problems.append(check(results, expected))
    (create_s, create_calls), (resend_s, resend_calls) = timings
    batch, problem = adapter.options["batch_size"], "; ".join(filter(None, problems))
    rows.append(Row("adapter", entity, batch, len(out), create_s, create_calls, resend_s, resend_calls, problem))
    print(table(rows[-1:]).splitlines()[-1], flush=True)
    return [r.target_id for r in results]


def check(results, expected: str) -> str:
    """'' when every result is ``expected``; else what came back instead (and one error)."""
    seen: dict[str, int] = {}
    for result in results:
        key = "error" if result.error else result.action
        seen[key] = seen.get(key, 0) + 1
    if set(seen) == {expected}:
        return ""
    error = next((str(r.error) for r in results if r.error), "")
    return "; ".join(f"{k} x{v}" for k, v in seen.items()) + (f" ({error[:120]})" if error else "")


# --- The engine path ---------------------------------------------------------------------------


def django_setup() -> None:
    from cryptography.fernet import Fernet

    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "0",  # as workers run: DEBUG keeps and formats every statement
            "DJANGO_SECRET_KEY": "bench-only-not-a-secret",
            "JUNCTION_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "JUNCTION_VAR_DIR": str(VAR),
            "DATABASE_URL": f"sqlite:///{VAR / 'junction.sqlite3'}",
            "CELERY_BROKER_URL": "filesystem://",  # nothing is queued here; never a shared broker
            "REDIS_URL": "",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def shop_records(tag: str, records: int, orders: int) -> dict[str, list[dict]]:
    """What the demo shop would push: customers, catalog products, orders of three lines on them."""
    people = [
        {
            "id": f"{tag}-C{n:05d}",
            "first_name": f"Bench{n}",
            "last_name": f"Customer{tag}{n}",
            "email": f"c{n}.{tag.lower()}@example.com",
            "street": f"Hauptstraße {n % 200 + 1}",
            "postcode": f"{10115 + n % 80}",
            "city": "Berlin",
            "country": "DE",
        }
        for n in range(records)
    ]
    goods = [
        {"sku": f"{tag}-SKU{n:05d}", "name": f"Bench product {n}", "unit": "pc", "price": "9.90"}
        for n in range(records)
    ]
    sales = [
        {
            "id": f"{tag}-ORD{n:05d}",
            "customer": people[n % records]["id"],
            "date": "2026-05-04",
            "items": [
                {"sku": goods[(n * 3 + k) % records]["sku"], "qty": k + 1, "price": f"{9 + k}.50"} for k in range(3)
            ],
        }
        for n in range(orders)
    ]
    return {"customer": people, "product": goods, "sales_order": sales}


def engine_flow(shop, target, entity: str, batch: int):
    """A live flow from a webhook of ``shop`` into ``target``, with the demo's mapping for ``entity``."""
    from demo.landscape import ORDER_MAPPING, PARTY_MAPPING, PRODUCT_MAPPING
    from integrations.choices import Stage, Trigger
    from integrations.models import Connector, Flow

    mapping = {"customer": PARTY_MAPPING, "product": PRODUCT_MAPPING, "sales_order": ORDER_MAPPING}[entity]
    id_field = "sku" if entity == "product" else "id"
    source = Connector(system=shop, name=f"{shop.name} {entity}", adapter="webhook", settings={"id_field": id_field})
    source.set_credentials({"secret": "whsec_YmVuY2gtb25seQ=="})
    source.save()
    flow = Flow.objects.create(
        name=source.name, entity=entity, source=source, trigger=Trigger.PUSH, stage=Stage.LIVE, mapping=mapping,
        batch_size=batch,
    )  # fmt: skip
    flow.targets.add(target)
    return flow


def stage(flow, tag: str, records: list[dict]):
    """A run of ``flow`` with ``records`` pushed and staged (cleansed, matched, mapped): ready to load."""
    from integrations.engine import pipeline
    from integrations.models import InboundEvent, Run

    run = Run.objects.create(flow=flow, stage=flow.stage, trigger="manual")
    for start in range(0, len(records), 100):
        page = records[start : start + 100]
        event = InboundEvent.objects.create(connector=flow.source, event_id=f"{tag}-{start}", records=page, run=run)
        pipeline.Stager(run).stage(flow.source.adapter_class.records_of(event, flow.source.settings), None)
    Run.objects.filter(pk=run.pk).update(extracted=True)
    return run


def engine_path(server, sizes: dict[int, tuple[int, int]]) -> list[Row]:
    """Pushed records staged through master data and the demo's mappings, then timed through ``pipeline.load``."""
    from integrations.choices import OutcomeStatus
    from integrations.engine import pipeline
    from integrations.models import Connector, RecordOutcome, Run, System

    erp = System.objects.create(name="Tryton ERP", kind="erp")
    rows = []
    for batch, (records, orders) in sizes.items():
        tag = f"E{batch}"
        shop = System.objects.create(name=f"Bench shop {batch}", kind="ecommerce")
        target = Connector(system=erp, name=f"Tryton batch {batch}", adapter="tryton")
        target.settings = {"url": server.url, "database": server.database, "batch_size": batch}
        target.set_credentials({"login": server.login, "password": server.password})
        target.save()
        # In this order: an order's references resolve to the customers and products delivered before it.
        for entity, payloads in shop_records(tag, records, orders).items():
            run = stage(engine_flow(shop, target, entity, batch), f"{tag}-{entity}", payloads)
            timings, problems = [], []
            for expected in ("created", "unchanged"):
                calls, start = rpc_calls(), time.perf_counter()
                pipeline.load(run.pk, target.pk)
                timings.append((time.perf_counter() - start, rpc_calls() - calls))
                problems.append(outcomes(run, expected))
                # The same rows again, as a worker re-sends them when their acknowledgement was lost.
                delivered = RecordOutcome.objects.filter(run=run, status=OutcomeStatus.DELIVERED)
                delivered.update(status=OutcomeStatus.PENDING, attempts=0, lease_until=None)
                Run.objects.filter(pk=run.pk).update(finished_at=None)
            (create_s, create_calls), (resend_s, resend_calls) = timings
            problem = "; ".join(filter(None, problems))
            rows.append(
                Row("engine", entity, batch, len(payloads), create_s, create_calls, resend_s, resend_calls, problem)
            )
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    return rows


def outcomes(run, expected: str) -> str:
    """'' when every row of ``run`` was delivered as ``expected``; else what happened instead (and one reason)."""
    from integrations.choices import OutcomeStatus

    seen: dict[str, int] = {}
    reason = ""
    for action, status, error in run.outcomes.values_list("action", "status", "error_message"):
        key = action if status == OutcomeStatus.DELIVERED else status
        seen[key] = seen.get(key, 0) + 1
        reason = reason or error
    if set(seen) == {expected}:
        return ""
    return "; ".join(f"{k} x{v}" for k, v in seen.items()) + (f" ({reason[:120]})" if reason else "")


_CALLS = [0]


def count_calls() -> None:
    """Count every JSON-RPC request the adapters of this process send (the engine opens its own)."""
    from integrations.adapters.tryton import client

    original = client.TrytonClient._post

    def counted(self, path, method, params):
        _CALLS[0] += 1
        return original(self, path, method, params)

    client.TrytonClient._post = counted


def rpc_calls() -> int:
    return _CALLS[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=500, help="parties and products, batched")
    parser.add_argument("--orders", type=int, default=100, help="sales orders (3 lines), batched")
    parser.add_argument("--single", type=int, default=100, help="parties and products, one by one")
    parser.add_argument("--single-orders", type=int, default=30, help="sales orders, one by one")
    parser.add_argument("--no-engine", action="store_true", help="measure the adapter only")
    args = parser.parse_args()
    sizes = {BATCHED: (args.records, args.orders), ONE_BY_ONE: (args.single, args.single_orders)}

    from demo.tryton_server import TrytonServer, available

    ok, reason = available()
    if not ok:
        sys.exit(reason)
    if not args.no_engine:
        django_setup()  # before the clock: migrating the scratch database takes a while
    count_calls()
    server = TrytonServer(RESULTS / "erp-tryton", database="bench", fresh=True)
    uptime = [subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()]
    started = time.perf_counter()
    with server:
        print(f"Tryton on {server.url} (fresh copy of the template); load average {load()}", flush=True)
        print("\n" + "\n".join(table([]).splitlines()), flush=True)
        rows = adapter_path(server, sizes)
        uptime.append(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
        if not args.no_engine:
            rows += engine_path(server, sizes)
    uptime.append(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    elapsed = time.perf_counter() - started
    print(f"\n{elapsed:.0f} s in all, on {os.cpu_count()} cores; uptime before, between the paths, after:")
    print("\n".join(f"    {line}" for line in uptime))
    print("\n" + table(rows))


if __name__ == "__main__":
    main()
