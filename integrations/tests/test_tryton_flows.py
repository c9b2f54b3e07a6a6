"""End to end into a real Tryton ERP (issue 5, "Proof"): CRM files, shop and till webhooks through
Junction's engine and master data, into Tryton, checked by reading Tryton itself.

Each test gets a Tryton database of its own, copied from the cached template
(``demo/tryton_server.py``), because the demo's party codes come from golden-record
ids, which start again in every test's rolled-back Django database. Flows are the
demo's (``demo/landscape.py`` mappings); runs go in this process, step by step,
as in ``test_engine.py``. What Tryton holds is read back over JSON-RPC with the
adapter's own client, so each assertion is about the ERP, not about Junction's
bookkeeping. Without ``.venv-tryton`` the tests skip, or fail when
JUNCTION_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import csv
import os
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from demo import tryton_server
from demo.data import CRM_COLUMNS, NICKNAMES, PRODUCT_LINES
from demo.landscape import ORDER_MAPPING, PARTY_MAPPING, POS_MAPPING_WITH_A_MISTAKE, PRODUCT_MAPPING
from integrations.adapters.base import OutRecord
from integrations.adapters.tryton.client import TrytonClient
from integrations.choices import OutcomeStatus, RunStatus, Stage, Trigger
from integrations.engine import actions, mapping, pipeline
from integrations.models import Connector, Delivery, Flow, InboundEvent, RecordOutcome, Run, System, TargetChange
from integrations.tests.adapters.tryton_peer import skip_or_fail
from integrations.tests.engine_world import SECRET
from masterdata.models import GoldenRecord
from masterdata.models import SourceRecord as MasterSource

pytestmark = pytest.mark.django_db

ALL = {"active_test": False}  # archived parties and addresses count too
DONE = ("confirmed", "processing")  # Tryton may start processing a sale the moment it is confirmed

ADA = {
    "id": "CRM-1001",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "company": "",
    "email": "ada.lovelace@example.com",
    "phone": "030 12345678",
    "street": "Hauptstraße 5",
    "city": "Berlin",
    "postcode": "10115",
    "country": "DE",
    "date_of_birth": "1985-12-10",
}
# A CRM customer typed in twice: the second time with a nickname, an abbreviated street, no email.
WILLIAM = {
    **ADA,
    "id": "CRM-1002",
    "first_name": "William",
    "last_name": "Turner",
    "email": "william.turner@example.com",
    "phone": "040 87654321",
    "street": "Lindenstraße 12",
    "city": "Hamburg",
    "postcode": "20095",
    "date_of_birth": "1979-03-02",
}
BILL = {**WILLIAM, "id": "CRM-1077", "first_name": NICKNAMES["William"], "street": "Lindenstr. 12", "email": ""}
WALK_IN = {
    "id": "CRM-WALKIN-S-01",
    "company": "Walk-in customers Store Berlin Mitte",
    "country": "DE",
    "city": "Berlin",
}
SHOP_CUSTOMER = {
    "id": "SHOP-0001",
    "first_name": "Grace",
    "last_name": "Hopper",
    "email": "grace.hopper@example.com",
    "phone": "089 2345678",
    "street": "Leopoldstraße 3",
    "city": "München",
    "postcode": "80802",
    "country": "DE",
}
# The demo's catalog lines, as the shop exports them: SKU-0001 Espresso beans (kg) … SKU-0012 Chai syrup (l).
CATALOG = [
    {"sku": f"SKU-{n:04d}", "name": name, "unit": unit, "price": price, "currency": "EUR"}
    for n, (name, unit, price, _weight) in enumerate(PRODUCT_LINES, 1)
]

# The demo's till mapping (the walk-in account by the CRM's id), with two differences: the tills here
# send "sku" (the demo's send "article", its deliberate mistake), and the products are the shop
# catalog's, so their reference names the shop: the tills never sent a product of their own.
TILL_MAPPING = [
    rule
    if rule["target"] != "lines"
    else {**rule, "rules": [{**r, "system": "Web shop"} if r["op"] == "reference" else r for r in rule["rules"]]}
    for rule in POS_MAPPING_WITH_A_MISTAKE
]


# --- Tryton: a fresh database per test, read back over JSON-RPC ---------------------------------------


@pytest.fixture
def tryton(tmp_path):
    """A Tryton server on a fresh copy of the template database (about 3 s), stopped after the test.

    Named like the adapter tests' session fixture: when their conftest is loaded (a whole run), it marks
    these tests ``tryton`` as well, so `-m tryton` selects them.
    """
    ok, reason = tryton_server.available()
    if not ok:
        skip_or_fail(reason)
    server = tryton_server.TrytonServer(tmp_path / "tryton", database="e2e", fresh=True)
    try:
        server.start()
    except RuntimeError as exc:
        pytest.fail(f"Tryton did not start: {exc}")
    yield server
    server.stop()


@pytest.fixture
def erp(tryton):
    """The adapter's JSON-RPC client, logged in as Tryton's admin: how the tests see the ERP."""
    with tryton.client() as client:
        yield client


def parties(client: TrytonClient, code: str) -> list[dict]:
    return client.search_read("party.party", [("code", "=", code)], ["name", "active"], context=ALL)


def addresses(client: TrytonClient, party_id: int) -> list[dict]:
    fields = ["street", "postal_code", "city", "country.code", "active"]
    return client.search_read("party.address", [("party", "=", party_id)], fields, context=ALL)


def sales(client: TrytonClient, reference: str) -> list[dict]:
    fields = ["state", "party", "party.code", "total_amount", "untaxed_amount", "sale_date"]
    return client.search_read("sale.sale", [("reference", "=", reference)], fields, context=ALL)


def sale_lines(client: TrytonClient, sale_id: int) -> list[tuple]:
    fields = ["product.code", "quantity", "unit_price", "amount"]
    rows = client.search_read("sale.line", [("sale", "=", sale_id)], fields, order=[("id", "ASC")])
    return [(r["product."]["code"], r["quantity"], r["unit_price"], r["amount"]) for r in rows]


# --- The landscape: the demo's systems and mappings, Tryton as the one target -----------------------


@dataclass
class Landscape:
    """The CRM and catalog exports (files), the shop's and tills' webhooks, and the flows into Tryton."""

    files: Path
    erp: Connector
    crm: Flow
    catalog: Flow
    shop_customers: Flow
    orders: Flow
    tills: Flow
    systems: dict[str, System] = field(default_factory=dict)

    def export(self, flow: Flow, name: str, rows: list[dict]) -> Path:
        """A CSV export dropped into the flow's inbound folder, as the CRM or the shop writes it."""
        folder = self.files / flow.source.settings["entities"][flow.entity]["inbound_folder"]
        columns = CRM_COLUMNS if flow.entity == "customer" else list(CATALOG[0])
        path = folder / name
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows({column: row.get(column, "") for column in columns} for row in rows)
        return path

    def push(self, flow: Flow, *records: dict) -> None:
        """Records posted to the flow's webhook (stored, as the inbound endpoint does after checking the signature)."""
        number = InboundEvent.objects.count() + 1
        InboundEvent.objects.create(connector=flow.source, event_id=f"evt-{number}", records=list(records))

    def party_code(self, system: str, external_id: str) -> str:
        """The ERP code the demo's party mapping gives the golden record of a source's customer."""
        source = MasterSource.objects.get(system=self.systems[system], entity="customer", external_id=external_id)
        return f"C-{source.golden_id}"

    def delivered(self, entity: str, subject: str) -> str:
        return Delivery.objects.get(target=self.erp, entity=entity, subject=subject).remote_id


def run_once(flow: Flow) -> Run:
    """One whole run in this process: start, extract (cleanse, match, map, stage), load, finish."""
    run = actions.start_run(flow)
    taken = pipeline.take_extraction(run.pk)
    assert taken is not None
    pipeline.extract(taken)
    deliver(run)
    return Run.objects.get(pk=run.pk)


def deliver(run: Run) -> None:
    for target in run.flow.targets.all():
        pipeline.load(run.pk, target.pk)
    pipeline.finish_if_done(run.pk)


def counts(run: Run) -> dict[str, int]:
    names = ("read", "created", "updated", "unchanged", "quarantined", "failed", "dead_lettered")
    return {name: getattr(run, name) for name in names if getattr(run, name)}


def files_source(system: System, name: str, entity: str, folder: Path, pattern: str, id_field: str) -> Connector:
    """A files connector reading ``folder``/in (below JUNCTION_FILES_ROOT) and archiving what it read."""
    root = Path(django_settings.JUNCTION_FILES_ROOT)
    for sub in ("in", "archive", "error"):
        (root / folder / sub).mkdir(parents=True)
    config = {
        "inbound_folder": f"{folder}/in",
        "archive_folder": f"{folder}/archive",
        "error_folder": f"{folder}/error",
    }
    config |= {"pattern": pattern, "id_field": id_field, "min_age_seconds": 0}
    return Connector.objects.create(
        system=system, name=name, adapter="files", settings={"location": "local", "entities": {entity: config}}
    )


def webhook_source(system: System, name: str) -> Connector:
    connector = Connector(system=system, name=name, adapter="webhook", settings={"id_field": "id"})
    connector.set_credentials({"secret": SECRET})
    connector.save()
    return connector


def live_flow(name: str, entity: str, source: Connector, rules: list[dict], target: Connector) -> Flow:
    """A live flow, its mapping validated as the flow editor and the API validate it."""
    trigger = Trigger.PUSH if source.adapter == "webhook" else Trigger.MANUAL
    flow = Flow(name=name, entity=entity, source=source, trigger=trigger, stage=Stage.LIVE, mapping=rules)
    mapping.validate_rules(flow.mapping)
    flow.full_clean()
    flow.save()
    flow.targets.add(target)
    return flow


@pytest.fixture
def landscape(tryton, settings, tmp_path) -> Landscape:
    """The demo's systems by name (mapping rules refer to them), with Tryton as every flow's target."""
    settings.JUNCTION_FILES_ROOT = str(tmp_path / "files")
    systems = {
        key: System.objects.create(name=name, kind=kind, environment="sandbox")
        for key, name, kind in [
            ("erp", "Tryton ERP", "erp"),
            ("crm", "CRM", "crm"),
            ("shop", "Web shop", "ecommerce"),
            ("pos", "Store tills (POS)", "pos"),
        ]
    }
    erp = Connector(system=systems["erp"], name="Tryton ERP", adapter="tryton")
    erp.settings = {"url": tryton.url, "database": tryton.database}
    erp.set_credentials({"login": tryton.login, "password": tryton.password})
    erp.full_clean()
    erp.save()
    crm = files_source(systems["crm"], "CRM customer export", "customer", "crm", "customers-*.csv", "id")
    catalog = files_source(systems["shop"], "Shop catalog export", "product", "catalog", "catalog-*.csv", "sku")
    shop_customers = webhook_source(systems["shop"], "Shop customer webhook")
    shop_orders = webhook_source(systems["shop"], "Shop order webhook")
    tills = webhook_source(systems["pos"], "POS transactions webhook")
    return Landscape(
        files=tmp_path / "files",
        erp=erp,
        crm=live_flow("CRM customers", "customer", crm, PARTY_MAPPING, erp),
        catalog=live_flow("Shop catalog", "product", catalog, PRODUCT_MAPPING, erp),
        shop_customers=live_flow("Shop customers", "customer", shop_customers, PARTY_MAPPING, erp),
        orders=live_flow("Shop orders", "sales_order", shop_orders, ORDER_MAPPING, erp),
        tills=live_flow("Till sales", "sales_order", tills, TILL_MAPPING, erp),
        systems=systems,
    )


# --- 1. A CRM customer reaches the ERP once -------------------------------------------------------


def test_a_crm_customer_reaches_the_erp_once_however_often_it_is_delivered(landscape, erp):
    export = landscape.export(landscape.crm, "customers-0001.csv", [ADA])
    first = run_once(landscape.crm)
    code = landscape.party_code("crm", ADA["id"])
    (party,) = parties(erp, code)
    assert (first.status, counts(first)) == (RunStatus.SUCCEEDED, {"read": 1, "created": 1})
    assert party["name"] == "Ada Lovelace"
    assert landscape.delivered("customer", f"golden:{code[2:]}") == str(party["id"])
    assert not export.exists()  # archived once read

    # The same file delivered again. Files are told apart by name, size and mtime (seconds): give it
    # the later mtime a real later upload has, or within the same second it counts as the file already read.
    resent = landscape.export(landscape.crm, "customers-0001.csv", [ADA])
    later = time.time() + 2
    os.utime(resent, (later, later))
    again = run_once(landscape.crm)
    assert (again.status, counts(again)) == (RunStatus.SUCCEEDED, {"read": 1, "unchanged": 1})
    assert [p["id"] for p in parties(erp, code)] == [party["id"]]


def test_a_batch_sent_again_after_a_worker_died_is_unchanged_in_the_erp(landscape, erp):
    landscape.export(landscape.crm, "customers-0001.csv", [ADA])
    run = actions.start_run(landscape.crm)
    pipeline.extract(pipeline.take_extraction(run.pk))
    # A worker claims the batch and writes it to Tryton, then dies before recording anything.
    claimed = pipeline.claim(run.pk, landscape.erp.pk, 100)
    with landscape.erp.open_adapter() as adapter:
        (written,) = adapter.write("customer", [OutRecord(r.idempotency_key, r.mapped) for r in claimed])
    assert written.action == "created"
    RecordOutcome.objects.filter(run=run).update(lease_until=timezone.now() - timedelta(seconds=1))  # lease ran out

    deliver(run)  # another worker takes the batch over and sends it again

    run.refresh_from_db()
    code = landscape.party_code("crm", ADA["id"])
    (party,) = parties(erp, code)
    assert (run.status, counts(run)) == (RunStatus.SUCCEEDED, {"read": 1, "unchanged": 1})
    outcome = run.outcomes.get()
    assert (outcome.status, outcome.attempts, outcome.remote_id) == (OutcomeStatus.DELIVERED, 2, str(party["id"]))
    assert landscape.delivered("customer", f"golden:{code[2:]}") == written.target_id == str(party["id"])


# --- 2. An order webhook becomes a confirmed sale ----------------------------------------------------


def test_an_order_webhook_becomes_a_confirmed_sale_with_its_lines_prices_and_customer(landscape, erp):
    landscape.export(landscape.catalog, "catalog-0001.csv", CATALOG)
    products = run_once(landscape.catalog)
    landscape.push(landscape.shop_customers, SHOP_CUSTOMER)
    customers = run_once(landscape.shop_customers)
    assert counts(products) == {"read": len(CATALOG), "created": len(CATALOG)}
    assert counts(customers) == {"read": 1, "created": 1}

    order = {
        "id": "WEB-1001",
        "customer": "SHOP-0001",
        "date": "2026-05-04",
        "currency": "EUR",
        "items": [
            {"sku": "SKU-0001", "qty": 2, "price": "18.90"},
            {"sku": "SKU-0005", "qty": 4, "price": "8.50"},  # a discount: the order's price, not the list price
            {"sku": "SKU-0008", "qty": 1, "price": "129.00"},
        ],
    }
    landscape.push(landscape.orders, order)
    run = run_once(landscape.orders)

    assert (run.status, counts(run)) == (RunStatus.SUCCEEDED, {"read": 1, "created": 1})
    (sale,) = sales(erp, "WEB-1001")
    assert sale["state"] in DONE
    assert sale["party."]["code"] == landscape.party_code("shop", "SHOP-0001")
    assert (sale["total_amount"], sale["untaxed_amount"]) == (Decimal("200.80"), Decimal("200.80"))
    assert str(sale["sale_date"]) == "2026-05-04"
    assert sale_lines(erp, sale["id"]) == [
        ("SKU-0001", 2.0, Decimal("18.90"), Decimal("37.80")),
        ("SKU-0005", 4.0, Decimal("8.50"), Decimal("34.00")),
        ("SKU-0008", 1.0, Decimal("129.00"), Decimal("129.00")),
    ]

    landscape.push(landscape.orders, order)  # the shop sends the same order again
    again = run_once(landscape.orders)
    assert counts(again) == {"read": 1, "unchanged": 1} and len(sales(erp, "WEB-1001")) == 1


# --- 3. A changed address in the CRM ------------------------------------------------------------------


def test_a_changed_address_in_the_crm_updates_the_erp_party_in_place(landscape, erp):
    landscape.export(landscape.crm, "customers-0001.csv", [ADA])
    run_once(landscape.crm)
    code = landscape.party_code("crm", ADA["id"])
    (party,) = parties(erp, code)
    (before,) = addresses(erp, party["id"])

    moved = {**ADA, "street": "Parkweg 17", "postcode": "10117"}
    landscape.export(landscape.crm, "customers-0002.csv", [moved])  # the next export: same id, new address
    run = run_once(landscape.crm)

    assert (run.status, counts(run)) == (RunStatus.SUCCEEDED, {"read": 1, "updated": 1})
    assert [p["id"] for p in parties(erp, code)] == [party["id"]]  # no second party
    # The adapter manages the party's first address: rewritten in place, no second one, none archived.
    (after,) = addresses(erp, party["id"])
    assert after["id"] == before["id"] and after["active"]
    assert (after["street"], after["postal_code"], after["city"]) == ("Parkweg 17", "10117", "Berlin")
    assert before["street"] != after["street"]


# --- 4. An order for a product the ERP does not have yet waits for it ---------------------------------


def test_an_order_for_an_unknown_sku_waits_and_is_delivered_once_the_product_arrives(landscape, erp):
    known, late = CATALOG[0], CATALOG[1]
    landscape.export(landscape.catalog, "catalog-0001.csv", [known])
    run_once(landscape.catalog)
    landscape.push(landscape.shop_customers, SHOP_CUSTOMER)
    run_once(landscape.shop_customers)
    order = {
        "id": "WEB-2001",
        "customer": "SHOP-0001",
        "date": "2026-05-04",
        "items": [{"sku": known["sku"], "qty": 1, "price": known["price"]}, {"sku": late["sku"], "qty": 3}],
    }
    landscape.push(landscape.orders, order)

    run = run_once(landscape.orders)

    assert (run.status, counts(run)) == (RunStatus.DELIVERING, {"read": 1})  # open while its order waits
    outcome = run.outcomes.get()
    assert (outcome.status, outcome.error_class) == (OutcomeStatus.RETRYING, "UnresolvedReference")
    assert f"product '{late['sku']}' has not reached Tryton ERP yet" in outcome.error_message
    assert "element 2 of items" in outcome.error_message  # which line, for the person reading it
    assert sales(erp, "WEB-2001") == []

    landscape.export(landscape.catalog, "catalog-0002.csv", [late])  # the catalog catches up
    run_once(landscape.catalog)
    RecordOutcome.objects.filter(pk=outcome.pk).update(next_attempt_at=timezone.now())  # its next check is due
    deliver(run)

    run.refresh_from_db()
    assert (run.status, counts(run)) == (RunStatus.SUCCEEDED, {"read": 1, "created": 1})
    (sale,) = sales(erp, "WEB-2001")
    assert sale["state"] in DONE
    late_price = Decimal(late["price"])  # no price on the line: Tryton's list price, from the catalog
    assert sale_lines(erp, sale["id"]) == [
        (known["sku"], 1.0, Decimal(known["price"]), Decimal(known["price"])),
        (late["sku"], 3.0, late_price, 3 * late_price),
    ]


# --- 5. Duplicates become one party; a till sale finds the CRM's walk-in account -------------------------


def test_a_customer_typed_twice_in_the_crm_becomes_one_golden_record_and_one_party(landscape, erp):
    landscape.export(landscape.crm, "customers-0001.csv", [ADA, WILLIAM, BILL])
    run = run_once(landscape.crm)

    william, bill = (MasterSource.objects.get(external_id=r["id"]) for r in (WILLIAM, BILL))
    assert william.golden_id == bill.golden_id  # matched: nickname, abbreviated street, same phone and birthday
    golden = GoldenRecord.objects.get(pk=william.golden_id)
    assert GoldenRecord.objects.filter(entity="customer").count() == 2  # Ada and the Turners
    # Both CRM rows went to the one party: the second one updates it with the golden record's new values.
    assert (run.status, counts(run)) == (RunStatus.SUCCEEDED, {"read": 3, "created": 2, "updated": 1})
    turners = erp.search_read("party.party", [("name", "ilike", "%Turner%")], ["code", "name"], context=ALL)
    assert [p["code"] for p in turners] == [f"C-{golden.pk}"]
    # No survivorship rules: the most recent value wins ("Bill"); the email only William's row had survives.
    assert turners[0]["name"] == f"{golden.values['first_name']} {golden.values['last_name']}" == "Bill Turner"
    emails = erp.search_read(
        "party.contact_mechanism", [("party", "=", turners[0]["id"]), ("type", "=", "email")], ["value"]
    )
    assert [e["value"] for e in emails] == [WILLIAM["email"]]


def test_a_till_sale_is_booked_to_the_crm_walk_in_accounts_party(landscape, erp):
    landscape.export(landscape.crm, "customers-0001.csv", [WALK_IN])
    landscape.export(landscape.catalog, "catalog-0001.csv", CATALOG[:2])
    run_once(landscape.crm)
    run_once(landscape.catalog)
    till = {
        "id": "POS-S-01-0001",
        "store": "S-01",
        "store_customer": WALK_IN["id"],  # the CRM's id: the tills know no other
        "date": "2026-05-04",
        "items": [{"sku": c["sku"], "qty": 1, "price": c["price"]} for c in CATALOG[:2]],
    }
    landscape.push(landscape.tills, till)

    run = run_once(landscape.tills)

    assert (run.status, counts(run)) == (RunStatus.SUCCEEDED, {"read": 1, "created": 1})
    (sale,) = sales(erp, till["id"])
    (walk_in,) = parties(erp, landscape.party_code("crm", WALK_IN["id"]))
    assert sale["party"] == walk_in["id"] and walk_in["name"] == WALK_IN["company"]
    assert sale["state"] in DONE and sale["total_amount"] == sum(Decimal(c["price"]) for c in CATALOG[:2])


def test_a_merge_archives_the_merged_away_party_and_undoing_it_restores_it(
    landscape, erp, django_capture_on_commit_callbacks
):
    from integrations.engine import merges
    from masterdata.services.merge import merge, unmerge

    landscape.export(landscape.crm, "customers-0001.csv", [ADA, WILLIAM])
    run_once(landscape.crm)
    ada, william = (GoldenRecord.objects.get(source_records__external_id=r["id"]) for r in (ADA, WILLIAM))
    ada_code, william_code = f"C-{ada.pk}", f"C-{william.pk}"

    chosen = {"first_name": "Ada", "last_name": "Lovelace", "phone": william.values["phone"]}
    with django_capture_on_commit_callbacks() as queued:  # a steward decides they are one customer
        record = merge(ada, william, chosen)
    assert len(queued) == 1  # the worker's task, after the merge commits
    assert merges.perform(record.pk) == 0

    archived, updated = record.target_changes.order_by("action")
    assert (archived.action, archived.status, archived.target) == ("archive", "done", landscape.erp)
    assert [p["active"] for p in parties(erp, william_code)] == [False]  # kept, archived: its history stays
    # The survivor's party follows its merged values (the steward kept Ada's name, William's phone).
    assert (updated.action, updated.status, updated.payload["phone"]) == ("update", "done", william.values["phone"])
    [ada_party] = erp.search_read("party.party", [("code", "=", ada_code)], ["name", "active"], context=ALL)
    assert (ada_party["name"], ada_party["active"]) == ("Ada Lovelace", True)
    phones = erp.search_read(
        "party.contact_mechanism", [("party", "=", ada_party["id"]), ("type", "=", "phone")], ["value"]
    )
    assert william.values["phone"] in [p["value"] for p in phones]
    assert Delivery.objects.get(subject=f"golden:{ada.pk}").payload == updated.payload

    with django_capture_on_commit_callbacks():
        unmerge(record)
    assert merges.perform(record.pk) == 0
    assert [p["active"] for p in parties(erp, william_code)] == [True]
    assert sorted(record.target_changes.values_list("action", "status")) == [
        ("archive", "done"),
        ("restore", "done"),
        ("update", "done"),
        ("update", "done"),  # undone: the survivor's party gets its values from before
    ]
    phones = erp.search_read(
        "party.contact_mechanism", [("party", "=", ada_party["id"]), ("type", "=", "phone")], ["value"]
    )
    assert record.survivor_before["values"]["phone"] in [p["value"] for p in phones]


def test_an_erp_that_is_away_gets_the_archive_later(landscape, erp, tryton):
    from integrations.engine import merges
    from masterdata.services.merge import merge

    landscape.export(landscape.crm, "customers-0001.csv", [ADA, WILLIAM])
    run_once(landscape.crm)
    ada, william = (GoldenRecord.objects.get(source_records__external_id=r["id"]) for r in (ADA, WILLIAM))
    record = merge(ada, william)
    tryton.stop()  # the ERP is down for maintenance

    assert merges.perform(record.pk) == 2  # the archive and the survivor's update wait
    rows = list(record.target_changes.all())
    assert all(row.status == "pending" and row.error.startswith("Will try again: ") for row in rows)
    assert merges.due_merges(rows[0].next_attempt_at) == [record.pk]  # the sweeper queues it when due

    tryton.start()
    TargetChange.objects.update(next_attempt_at=None)
    with tryton.client() as client:
        assert merges.perform(record.pk) == 0
        assert [p["active"] for p in parties(client, f"C-{william.pk}")] == [False]


def test_reconciliation_reports_a_party_deleted_in_the_erp(landscape, erp):
    from django.core.management import call_command

    from integrations.engine.reconcile import reconcile

    landscape.export(landscape.crm, "customers-0001.csv", [ADA, WILLIAM])
    run_once(landscape.crm)
    assert reconcile(landscape.erp, "customer").missing == []
    code = landscape.party_code("crm", ADA["id"])
    (party,) = parties(erp, code)
    erp.model("party.party", "delete", [party["id"]])  # someone deletes it in the ERP

    result = reconcile(landscape.erp, "customer")
    assert (result.delivered, len(result.missing)) == (2, 1)
    assert result.missing[0][0] == code
    with pytest.raises(SystemExit) as exited:
        call_command("reconcile_target", landscape.erp.name, "customer")
    assert exited.value.code == 1  # a scheduled job can alert on it
