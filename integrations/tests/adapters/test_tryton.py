"""The Tryton adapter against a real Tryton 8.2 server (tryton_peer.py), no mocks.

The server lives for the whole session, so each test makes its own codes.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from decimal import Decimal

import httpx
import pytest

from demo.tryton_server import TrytonServer
from integrations.adapters import registry
from integrations.adapters.base import OutRecord
from integrations.adapters.errors import PermanentError, TransientError
from integrations.adapters.tryton import TrytonAdapter
from integrations.adapters.tryton.client import TrytonClient, TrytonUserError, decode, encode
from integrations.adapters.tryton.reading import Changed, pages
from integrations.adapters.tryton.settings import TrytonSettingsSerializer


def make(server, **settings) -> TrytonAdapter:
    options = {"url": server.url, "database": server.database, **settings}
    return TrytonAdapter(options, {"login": server.login, "password": server.password})


def code(prefix: str = "C") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def out(*payloads) -> list[OutRecord]:
    return [OutRecord(key=f"key-{n}-{uuid.uuid4().hex[:6]}", payload=p) for n, p in enumerate(payloads)]


def customer(key: str, **values) -> dict:
    base = {"code": key, "company": f"{key} GmbH", "street": "Hauptstr. 1", "postcode": "10115"}
    return (
        base
        | {"city": "Berlin", "country": "DE", "email": f"{key.lower()}@example.com", "phone": "+49 30 1234"}
        | values
    )


def parties(client: TrytonClient, key: str) -> list[dict]:
    return client.search_read("party.party", [("code", "=", key)], ["name", "active"], context={"active_test": False})


def read_all(adapter, entity, watermark=None, page_size=500):
    return list(adapter.read(entity, watermark=watermark, page_size=page_size))


# --- Without a server ------------------------------------------------------------------------------


def test_registered_under_its_key():
    assert registry.get("tryton") is TrytonAdapter
    assert ("tryton", "Tryton ERP") in registry.choices()


def test_settings_errors_are_per_field():
    serializer = TrytonSettingsSerializer(
        data={"url": "ftp://erp", "database": "no spaces", "batch_size": 0, "stock_locations": []}
    )
    assert not serializer.is_valid()
    assert set(serializer.errors) == {"url", "database", "batch_size", "stock_locations"}
    valid = TrytonSettingsSerializer(data={"url": "http://erp:8000/", "database": "prod"})
    assert valid.is_valid(), valid.errors
    assert valid.validated_data["url"] == "http://erp:8000"
    assert (valid.validated_data["batch_size"], valid.validated_data["stock_locations"]) == (100, ["WH"])


def test_bad_settings_fail_when_the_adapter_is_built():
    with pytest.raises(PermanentError, match="database"):
        TrytonAdapter({"url": "http://erp:8000", "database": ""}, {"login": "a", "password": "b"})


def test_values_keep_tryton_types_both_ways():
    values = [Decimal("12.50"), dt.datetime(2024, 5, 1, 10, 30, 0, 123456), dt.date(2024, 5, 1)]
    import json

    assert json.loads(json.dumps(values, default=encode), object_hook=decode) == values
    assert json.loads(json.dumps(Decimal("0.10"), default=encode)) == {"__class__": "Decimal", "decimal": "0.10"}


def test_a_page_never_ends_inside_a_group_of_equal_change_times():
    t = [dt.datetime(2024, 1, 1, 0, 0, s) for s in range(3)]
    found = [Changed(1, t[0]), *(Changed(n, t[1]) for n in range(2, 6)), Changed(6, t[2])]
    marks = [mark for _, mark in pages(found, 2, "start")]
    # Pages 1 and 2 end inside the t[1] group: only t[0] is safe until the group is complete.
    assert marks == [t[0].isoformat(timespec="microseconds")] * 2 + [t[2].isoformat(timespec="microseconds")]
    assert next(mark for _, mark in pages(found[1:3], 1, "start")) == "start"  # nothing complete yet


# --- Parties -------------------------------------------------------------------------------------


def test_upsert_twice_gives_one_party_and_then_unchanged(tryton):
    key = code()
    with make(tryton) as adapter:
        (first,) = adapter.write("customer", out(customer(key)))
        (second,) = adapter.write("customer", out(customer(key)))
        found = parties(adapter.client, key)
    assert (first.action, first.error) == ("created", None)
    assert (second.action, second.error, second.target_id) == ("unchanged", None, first.target_id)
    assert [p["name"] for p in found] == [f"{key} GmbH"]
    assert first.target_id == str(found[0]["id"])


def test_a_changed_address_and_email_update_the_party(tryton):
    key = code()
    with make(tryton) as adapter:
        adapter.write("customer", out(customer(key)))
        moved = customer(key, street="Neue Str. 5", city="Hamburg", postcode="20095", email=f"new-{key}@example.com")
        (result,) = adapter.write("customer", out(moved))
        (record,) = [r for page in read_all(adapter, "customer") for r in page.records if r.external_id == key]
        addresses = adapter.client.search_read("party.address", [("party.code", "=", key)], ["id"])
    assert (result.action, result.error) == ("updated", None)
    assert {k: record.payload[k] for k in ("street", "city", "postcode", "country", "email", "phone")} == {
        "street": "Neue Str. 5",
        "city": "Hamburg",
        "postcode": "20095",
        "country": "DE",
        "email": f"new-{key}@example.com",
        "phone": "+49 30 1234",
    }
    assert len(addresses) == 1  # the address was changed, not a second one added


def test_empty_values_do_not_blank_what_tryton_holds(tryton):
    key = code()
    with make(tryton) as adapter:
        adapter.write("customer", out(customer(key)))
        (result,) = adapter.write("customer", out(customer(key, street="", email="", phone=None)))
    assert result.action == "unchanged"


def test_250_parties_are_created_in_a_few_calls(tryton):
    keys = [code("BULK") for _ in range(250)]
    with make(tryton, batch_size=100) as adapter:
        adapter.client.login()
        before = adapter.client.calls
        results = adapter.write("customer", out(*(customer(k) for k in keys)))
        calls = adapter.client.calls - before
        stored = adapter.client.search_read("party.party", [("code", "in", keys)], ["code"])
    assert [r.action for r in results] == ["created"] * 250
    assert len(stored) == 250
    # Per batch of 100: existing codes, create; plus the context and the countries once.
    assert calls <= 3 * 2 + 2, calls


def test_a_bad_record_fails_alone(tryton):
    good, bad, nameless = code(), code(), code()
    with make(tryton) as adapter:
        results = adapter.write(
            "customer", out(customer(good), customer(bad, country="XX"), {"code": nameless, "company": ""})
        )
    assert (results[0].action, results[0].error) == ("created", None)
    assert isinstance(results[1].error, PermanentError)
    assert "Country 'XX' is not in Tryton's country list" in results[1].error.message
    assert f"Party {nameless} has no name" in results[2].error.message


def test_incremental_read_returns_only_changes_after_the_watermark_archived_ones_too(tryton):
    a, b, c = code("INC"), code("INC"), code("INC")
    with make(tryton) as adapter:
        adapter.write("customer", out(customer(a), customer(b), customer(c)))
        watermark = read_all(adapter, "customer")[-1].watermark
        assert read_all(adapter, "customer", watermark) == []
        time.sleep(0.01)
        adapter.write("customer", out(customer(b, active=False), customer(c, company="Renamed AG")))
        changed = [r for page in read_all(adapter, "customer", watermark) for r in page.records]
        pages_of_one = read_all(adapter, "customer", watermark, page_size=1)
    assert [(r.external_id, r.payload["active"], r.payload["company"]) for r in changed] == [
        (b, False, f"{b} GmbH"),
        (c, True, "Renamed AG"),
    ]
    assert all(r.version and r.version > watermark for r in changed)
    assert pages_of_one[-1].watermark == max(r.version for r in changed)


def test_reconcile_ids_lists_every_code_archived_included(tryton):
    kept, archived = code(), code()
    with make(tryton) as adapter:
        results = adapter.write("customer", out(customer(kept), customer(archived, active=False)))
        codes = adapter.reconcile_ids("customer")
        (row,) = parties(adapter.client, archived)
    assert [(r.action, r.error) for r in results] == [("created", None)] * 2
    assert row["active"] is False or row["active"] == 0
    assert {kept, archived} <= codes


def test_an_archived_party_is_only_changed_when_reactivated(tryton):
    key = code()
    with make(tryton) as adapter:
        adapter.write("customer", out(customer(key, active=False)))
        (refused,) = adapter.write("customer", out(customer(key, city="Bonn")))
        (revived,) = adapter.write("customer", out(customer(key, city="Bonn", active=True)))
        (row,) = parties(adapter.client, key)
    assert "archived in Tryton" in refused.error.message
    assert (revived.action, revived.error, bool(row["active"])) == ("updated", None, True)


# --- Products and sales ------------------------------------------------------------------------------


def product(sku: str, **values) -> dict:
    return {"code": sku, "name": f"Widget {sku}", "unit": "EA", "list_price": "12.50"} | values


def test_products_upsert_by_sku_with_unit_and_price(tryton):
    sku = code("SKU")
    with make(tryton) as adapter:
        (created,) = adapter.write("product", out(product(sku)))
        (same,) = adapter.write("product", out(product(sku)))
        (dearer,) = adapter.write("product", out(product(sku, list_price="13.00")))
        (bad_unit,) = adapter.write("product", out(product(code("SKU"), unit="barrel")))
        (row,) = adapter.client.search_read(
            "product.product", [("code", "=", sku)], ["list_price_used", "default_uom.symbol", "salable"]
        )
    assert [r.action for r in (created, same, dearer)] == ["created", "unchanged", "updated"]
    assert created.target_id == str(row["id"])  # the variant, which sale lines refer to
    assert (row["list_price_used"], row["default_uom."]["symbol"], row["salable"]) == (Decimal("13.00"), "u", True)
    assert "Unit 'barrel' is not a unit of measure in Tryton" in bad_unit.error.message


def test_a_full_batch_of_new_products_is_created(tryton):
    # Tryton on SQLite refuses to create more than about 85 products in one call ("parser stack
    # overflow", HTTP 503): a batch of 100 goes in calls of Products.max_create.
    skus = [code("SKU") for _ in range(100)]
    with make(tryton, batch_size=100) as adapter:
        results = adapter.write("product", out(*(product(sku) for sku in skus)))
        stored = adapter.client.search_read("product.product", [("code", "in", skus)], ["code"])
    assert [(r.action, r.error) for r in results] == [("created", None)] * 100
    assert sorted(row["code"] for row in stored) == sorted(skus)
    assert {r.target_id for r in results} == {str(row["id"]) for row in stored}


def test_a_sale_with_lines_is_created_and_confirmed_with_the_right_totals(tryton):
    with make(tryton) as adapter:
        (party,) = adapter.write("customer", out(customer(code())))
        one, two = adapter.write("product", out(product(code("SKU")), product(code("SKU"), list_price="3.20")))
        order = {
            "reference": code("ORD"),
            "party": party.target_id,
            "sale_date": "2024-05-01",
            "lines": [
                {"product": one.target_id, "quantity": 2, "unit_price": "12.50"},
                {"product": two.target_id, "quantity": 3},  # the list price
            ],
        }
        (created,) = adapter.write("sales_order", out(order))
        (again,) = adapter.write("sales_order", out(order))
        more = order | {"lines": [{**order["lines"][0], "quantity": 5}]}
        (changed,) = adapter.write("sales_order", out(more))
        (sale,) = adapter.client.model(
            "sale.sale", "read", [int(created.target_id)], ["state", "total_amount", "reference", "party", "sale_date"]
        )
    assert (created.action, created.error) == ("created", None)
    assert sale["state"] in ("confirmed", "processing")
    assert sale["total_amount"] == Decimal("34.60")  # 2 x 12.50 + 3 x 3.20, no taxes configured
    assert (sale["party"], sale["sale_date"]) == (int(party.target_id), dt.date(2024, 5, 1))
    assert (again.action, again.target_id) == ("unchanged", created.target_id)
    assert isinstance(changed.error, PermanentError)
    assert "does not allow changing a confirmed sale: the new lines were not applied" in changed.error.message


def test_a_draft_sale_is_brought_in_line_and_confirmed(tryton):
    with make(tryton) as adapter:
        (party,) = adapter.write("customer", out(customer(code())))
        (item,) = adapter.write("product", out(product(code("SKU"))))
        reference = code("ORD")
        (draft_id,) = adapter.client.create(
            "sale.sale", [{"reference": reference, "party": int(party.target_id), "lines": []}]
        )
        order = {
            "reference": reference,
            "party": party.target_id,
            "lines": [{"product": item.target_id, "quantity": 1}],
        }
        (result,) = adapter.write("sales_order", out(order))
        (sale,) = adapter.client.model("sale.sale", "read", [draft_id], ["state", "total_amount"])
    assert (result.action, result.target_id, result.error) == ("updated", str(draft_id), None)
    assert (sale["state"], sale["total_amount"]) in {("confirmed", Decimal("12.50")), ("processing", Decimal("12.50"))}


def test_a_line_with_an_unknown_product_fails_that_order_only(tryton):
    with make(tryton) as adapter:
        (party,) = adapter.write("customer", out(customer(code())))
        (item,) = adapter.write("product", out(product(code("SKU"))))
        good = {
            "reference": code("ORD"),
            "party": party.target_id,
            "lines": [{"product": item.target_id, "quantity": 1}],
        }
        unknown = good | {"reference": code("ORD"), "lines": [{"product": "999999", "quantity": 1, "unit_price": 1}]}
        missing = good | {"reference": code("ORD"), "lines": [{"quantity": 1}]}
        results = adapter.write("sales_order", out(good, unknown, missing))
        states = adapter.client.search_read("sale.sale", [("reference", "=", good["reference"])], ["state"])
    assert (results[0].action, results[0].error) == ("created", None)
    assert [s["state"] for s in states] in (["confirmed"], ["processing"])
    assert isinstance(results[1].error, TrytonUserError)  # Tryton's own words
    assert 'The value "999999" for field "Product"' in results[1].error.message
    assert "Line 1 of order" in results[2].error.message and "has no product" in results[2].error.message


# --- Stock -------------------------------------------------------------------------------------


def test_inventory_levels_per_location_incrementally(tryton):
    sku, other = code("STK"), code("STK")
    with make(tryton) as adapter:
        (item, _) = adapter.write("product", out(product(sku), product(other)))
        client = adapter.client
        locations = {r["code"]: r["id"] for r in client.search_read("stock.location", [], ["code"])}
        watermark = read_all(adapter, "inventory_level")[-1].watermark
        move = {"product": int(item.target_id), "from_location": locations["SUP"], "to_location": locations["STO"]}
        move |= {"quantity": 7, "unit": 1, "unit_price": Decimal("5"), "currency": client.context.get("currency") or 1}
        client.model("stock.move", "do", client.create("stock.move", [move]))
        changed = [r for page in read_all(adapter, "inventory_level", watermark) for r in page.records]
    assert [(r.external_id, r.payload["quantity"], r.payload["unit"]) for r in changed] == [(f"{sku}@WH", 7, "EA")]


# --- Sessions, failures, test connection ----------------------------------------------------------


def test_a_session_ended_on_the_server_is_renewed_once(tryton):
    with make(tryton) as adapter:
        adapter.client.login()
        old = adapter.client.session
        body = {"id": 1, "method": "common.db.logout", "params": []}
        headers = {"Authorization": adapter.client.authorization}
        assert httpx.post(f"{tryton.url}/{tryton.database}/rpc/", json=body, headers=headers).status_code == 200
        (result,) = adapter.write("customer", out(customer(code())))
    assert result.error is None
    assert adapter.client.session != old


def test_a_refused_login_is_permanent(tryton):
    adapter = TrytonAdapter(
        {"url": tryton.url, "database": tryton.database}, {"login": tryton.login, "password": "wrong"}
    )
    with adapter, pytest.raises(PermanentError, match="Tryton refused the login of user 'admin'"):
        adapter.write("customer", out(customer(code())))


def test_business_errors_and_forbidden_methods_are_permanent(tryton):
    with tryton.client() as client:
        with pytest.raises(TrytonUserError, match="The code on party must be unique"):
            client.create("party.party", [{"name": "Twin", "code": (twin := code())}, {"name": "Twin", "code": twin}])
        with pytest.raises(PermanentError, match=r"method not allowed for this user \(model.party.party.nope\)"):
            client.call("model.party.party.nope", [], {})


def test_a_stopped_tryton_is_a_transient_error(tryton, tmp_path):
    with TrytonServer(tmp_path, database="stopping", log=lambda line: None) as server:
        adapter = make(server)
        adapter.write("customer", out(customer(code())))
    with adapter:
        with pytest.raises(TransientError, match="Could not connect to Tryton"):
            adapter.write("customer", out(customer(code())))
        checks = adapter.test_connection()
    assert [(c.name, c.ok) for c in checks] == [("Reach the Tryton server", False)]


def test_a_timeout_is_a_transient_error(tryton):
    client = TrytonClient(tryton.url, tryton.database, tryton.login, tryton.password, timeout=0.001)
    with client, pytest.raises(TransientError, match=r"did not answer common\.db\.login within 0\.001 s"):
        client.login()


def test_connection_reports_each_step(tryton):
    with make(tryton) as adapter:
        checks = adapter.test_connection()
    assert [c.name for c in checks[:2]] == ["Reach the Tryton server", "Log in"]
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]
    assert checks[0].detail == f"Tryton 8.2 answers at {tryton.url}."
    assert "as admin (user id 1), company id 1" in checks[1].detail
    assert {c.name for c in checks[2:]} >= {"Read party.party", "Read sale.sale", "Read stock.location"}


def test_connection_reports_a_refused_login(tryton):
    bad = TrytonAdapter({"url": tryton.url, "database": tryton.database}, {"login": "admin", "password": "wrong"})
    with bad:
        checks = bad.test_connection()
    assert [(c.name, c.ok) for c in checks] == [("Reach the Tryton server", True), ("Log in", False)]
    assert "check the login and password" in checks[1].detail


def test_connection_names_what_a_user_without_the_groups_may_not_read(tryton):
    login, password = code("user").lower(), "Junction-test-password-1"
    with tryton.client() as admin:
        admin.create("res.user", [{"login": login, "name": login, "password": password}])
    user = TrytonAdapter({"url": tryton.url, "database": tryton.database}, {"login": login, "password": password})
    with user:
        checks = {c.name: c for c in user.test_connection()}
        (refused,) = user.write("product", out(product(code("SKU"))))
    assert checks["Log in"].ok and checks["Read party.party"].ok
    assert [name for name, check in checks.items() if not check.ok] == [
        "Read sale.sale",
        "Read sale.line",
        "Read stock.move",
        "Read stock.inventory",
    ]
    assert 'You are not allowed to access "Sale"' in checks["Read sale.sale"].detail
    assert 'You are not allowed to access "Product Template"' in refused.error.message


# --- Stock counts (inventory_level written as stock inventories) ----------------------------------


def level(sku: str, location: str, quantity) -> dict:
    return {"id": f"{sku}@{location}", "sku": sku, "location": location, "quantity": quantity}


def location_id(client: TrytonClient, location_code: str) -> int:
    (row,) = client.search_read("stock.location", [("code", "=", location_code)], ["id"])
    return row["id"]


def quantities(client: TrytonClient, skus: list[str], location: int) -> dict[str, float]:
    """Tryton's own quantities of ``skus`` in ``location`` itself (what an inventory sets)."""
    context = {"locations": [location], "with_childs": False}
    rows = client.search_read("product.product", [("code", "in", skus)], ["code", "quantity"], context=context)
    return {row["code"]: row["quantity"] for row in rows}


def inventories(client: TrytonClient, skus: list[str]) -> list[dict]:
    """The inventories with a line for one of ``skus``, oldest first."""
    domain = [("lines.product.code", "in", skus)]
    return client.search_read("stock.inventory", domain, ["location", "state", "lines"], order=[("id", "ASC")])


def new_warehouse(client: TrytonClient, warehouse_code: str) -> int:
    """A warehouse with its own zones and the default lost-and-found location; returns its storage zone's id."""
    zones = client.create(
        "stock.location",
        [
            {"name": f"{warehouse_code} {z}", "code": f"{warehouse_code}-{z}", "type": "storage"}
            for z in ("IN", "OUT", "STO")
        ],
    )
    (lost,) = client.search_read("stock.location", [("type", "=", "lost_found")], ["id"], limit=1)
    zone = dict(zip(("input_location", "output_location", "storage_location"), zones, strict=True))
    client.create(
        "stock.location",
        [
            {
                "name": warehouse_code,
                "code": warehouse_code,
                "type": "warehouse",
                "lost_found_location": lost["id"],
                **zone,
            }
        ],
    )
    return zones[2]


def test_counted_quantities_become_trytons_and_a_resend_is_unchanged(tryton):
    skus = [code("CNT"), code("CNT")]
    with make(tryton) as adapter:
        adapter.write("product", out(*(product(sku) for sku in skus)))
        client, storage = adapter.client, location_id(adapter.client, "STO")
        first = adapter.write("inventory_level", out(level(skus[0], "STO", 42), level(skus[1], "STO", "7")))
        counted = quantities(client, skus, storage)
        client.calls = 0
        again = adapter.write("inventory_level", out(level(skus[0], "STO", 42.0), level(skus[1], "STO", 7)))
        calls_for_unchanged = client.calls
        made = inventories(client, skus)
    assert [(r.action, r.error) for r in first] == [("updated", None)] * 2
    assert counted == {skus[0]: 42, skus[1]: 7}
    assert [(r.action, r.error) for r in again] == [("unchanged", None)] * 2
    assert again[0].target_id == first[0].target_id and first[0].target_id.endswith(f"@{storage}")
    assert calls_for_unchanged == 3  # locations, products, the quantities in the one location
    assert [(i["location"], i["state"], len(i["lines"])) for i in made] == [(storage, "done", 2)]


def test_a_changed_count_updates_and_the_last_record_of_a_batch_wins(tryton):
    sku, other = code("CNT"), code("CNT")
    with make(tryton) as adapter:
        adapter.write("product", out(product(sku), product(other)))
        storage = location_id(adapter.client, "STO")
        adapter.write("inventory_level", out(level(sku, "STO", 10), level(other, "STO", 5)))
        lower = adapter.write(
            "inventory_level", out(level(sku, "STO", 12), level(other, "STO", 5), level(sku, "STO", 4))
        )
        counted = quantities(adapter.client, [sku, other], storage)
        moves = adapter.client.search_read("stock.move", [("product.code", "=", sku)], ["quantity", "state"])
    assert [r.action for r in lower] == ["updated", "unchanged", "updated"]
    assert counted == {sku: 4, other: 5}
    assert sorted((m["quantity"], m["state"]) for m in moves) == [(6, "done"), (10, "done")]  # +10, then -6


def test_an_unknown_sku_or_location_fails_alone_with_a_readable_reason(tryton):
    sku = code("CNT")
    with make(tryton) as adapter:
        adapter.write("product", out(product(sku)))
        results = adapter.write(
            "inventory_level",
            out(
                level("NO-SUCH-SKU", "WH", 3),
                level(sku, "WH", 9),
                level(sku, "NO-SUCH-PLACE", 1),
                level(sku, "SUP", 1),
                level(sku, "STO", -1),
                level(sku, "STO", "many"),
                level(sku, "STO", 1.5),
            ),
        )
        counted = quantities(adapter.client, [sku], location_id(adapter.client, "STO"))
    messages = [r.error.message if r.error else None for r in results]
    assert (results[1].action, messages[1]) == ("updated", None)
    assert counted == {sku: 9}
    assert "SKU 'NO-SUCH-SKU' is not an active product in Tryton" in messages[0]
    assert "no active stock location with the code 'NO-SUCH-PLACE'" in messages[2]
    assert "'SUP' is a supplier location" in messages[3]
    assert "cannot be negative" in messages[4] and "'many'" in messages[5] and "more decimals" in messages[6]
    assert all(isinstance(r.error, PermanentError) for r in results[:1] + results[2:])


def test_two_locations_in_one_batch_make_one_inventory_each(tryton):
    skus, berlin = [code("CNT"), code("CNT")], code("WH")
    with make(tryton) as adapter:
        client = adapter.client
        adapter.write("product", out(*(product(sku) for sku in skus)))
        berlin_storage, storage = new_warehouse(client, berlin), location_id(client, "STO")
        results = adapter.write(
            "inventory_level",
            out(level(skus[0], "WH", 1), level(skus[0], berlin, 2), level(skus[1], berlin, 3), level(skus[1], "WH", 4)),
        )
        here, there = quantities(client, skus, storage), quantities(client, skus, berlin_storage)
        made = inventories(client, skus)
    assert [(r.action, r.error) for r in results] == [("updated", None)] * 4
    assert (here, there) == ({skus[0]: 1, skus[1]: 4}, {skus[0]: 2, skus[1]: 3})
    assert sorted((i["location"], i["state"], len(i["lines"])) for i in made) == sorted(
        [(storage, "done", 2), (berlin_storage, "done", 2)]
    )


def test_a_warehouse_code_counts_in_its_storage_location(tryton):
    # Tryton takes only a storage location for an inventory; a warehouse's goods sit in its storage zone.
    sku = code("CNT")
    with make(tryton) as adapter:
        client = adapter.client
        adapter.write("product", out(product(sku)))
        (warehouse,) = client.search_read("stock.location", [("code", "=", "WH")], ["storage_location"])
        watermark = read_all(adapter, "inventory_level")[-1].watermark
        (result,) = adapter.write("inventory_level", out(level(sku, "WH", 25)))
        (made,) = inventories(client, [sku])
        read_back = [r for page in read_all(adapter, "inventory_level", watermark) for r in page.records]
    assert (result.action, result.error) == ("updated", None)
    assert made["location"] == warehouse["storage_location"] != warehouse["id"]
    assert [(r.external_id, r.payload["quantity"]) for r in read_back] == [(f"{sku}@WH", 25)]


def test_a_count_tryton_refuses_fails_alone_and_leaves_no_draft(tryton):
    # A storage location outside any warehouse has no lost-and-found location: Tryton refuses to confirm.
    sku, loose = code("CNT"), code("LOOSE")
    with make(tryton) as adapter:
        client = adapter.client
        adapter.write("product", out(product(sku)))
        client.create("stock.location", [{"name": loose, "code": loose, "type": "storage"}])
        results = adapter.write("inventory_level", out(level(sku, loose, 5), level(sku, "WH", 6)))
        made = inventories(client, [sku])
    assert isinstance(results[0].error, TrytonUserError)
    assert "you must set a lost and found" in results[0].error.message
    assert (results[1].action, results[1].error) == ("updated", None)
    assert [i["state"] for i in made] == ["done"]  # the refused draft was deleted
