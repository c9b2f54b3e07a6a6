"""Duplicate detection for products, suppliers and locations, and the blocking keys."""

from masterdata.matching import Decision, blocking_keys, find_pairs, score_pair
from masterdata.matching.nicknames import are_nicknames


def test_products_with_one_gtin_and_differently_formatted_skus_link():
    a = {"id": "p1", "sku": "AB-1234", "name": "Steel bolt M8 x 40", "gtin": "04006381333931", "unit": "pc"}
    b = {"id": "p2", "sku": "ab1234", "name": "Bolt, steel, M8x40", "gtin": "4006381333931", "unit": "pc"}
    pair = score_pair("product", a, b)
    assert pair.decision == Decision.LINK
    assert pair.fields["gtin"] == 1.0 and pair.fields["sku"] == 1.0


def test_products_with_different_gtins_are_not_candidates():
    a = {"id": "p1", "sku": "TS-RED-M", "name": "T-shirt red", "gtin": "4006381333931"}
    b = {"id": "p2", "sku": "TS-RED-L", "name": "T-shirt red", "gtin": "4006381333948"}
    assert score_pair("product", a, b).decision is None


def test_product_variants_differing_by_a_number_are_not_linked():
    a = {"id": "p1", "sku": "W-500", "name": "Mineral water 500 ml", "price": "0.99"}
    b = {"id": "p2", "sku": "W-1000", "name": "Mineral water 1000 ml", "price": "1.49"}
    assert score_pair("product", a, b).decision is None


def test_find_pairs_on_products_finds_the_gtin_duplicate():
    records = [
        {"id": "p1", "sku": "AB-1234", "name": "Steel bolt M8", "gtin": "4006381333931"},
        {"id": "p2", "sku": "AB1234", "name": "Steel Bolt M8", "gtin": "4006381333931"},
        {"id": "p3", "sku": "ZZ-9", "name": "Garden hose 20 m"},
    ]
    assert [(p.left_id, p.right_id, p.decision) for p in find_pairs("product", records)] == [("p1", "p2", "link")]


def test_suppliers_with_legal_form_variants_and_one_tax_id_link():
    a = {"id": "s1", "name": "ACME GmbH", "tax_id": "DE136695976", "city": "Berlin", "country": "DE"}
    b = {"id": "s2", "name": "Acme", "tax_id": "DE 136 695 976", "city": "Berlin", "country": "DE"}
    assert score_pair("supplier", a, b).decision == Decision.LINK


def test_locations_with_one_code_link_and_other_stores_do_not():
    a = {"id": "l1", "code": "WH-01", "name": "Central warehouse", "street": "1 Dock Road", "postcode": "E16 2QU"}
    b = {"id": "l2", "code": "wh01", "name": "Central Warehouse", "street": "1 Dock Rd", "postcode": "E16 2QU"}
    c = {"id": "l3", "code": "ST-7", "name": "Store 7", "street": "9 High St", "postcode": "N1 9GU"}
    assert score_pair("location", a, b).decision == Decision.LINK
    assert score_pair("location", a, c).decision is None


def test_blocking_keys_tolerate_a_typo_in_any_one_field():
    base = {
        "first_name": "Katherine",
        "last_name": "Johnson",
        "email": "kjohnson@example.com",
        "phone": "+14158234567",
        "postcode": "94110",
        "date_of_birth": "1970-02-03",
    }
    keys = blocking_keys("customer", base)
    for field, slip in [
        ("first_name", "Xatherine"),
        ("last_name", "Yohnson"),
        ("email", "kjohnsen@example.com"),
        ("phone", "+14158234568"),
        ("postcode", "94101"),
        ("date_of_birth", "1970-03-02"),
    ]:
        assert keys & blocking_keys("customer", {**base, field: slip}), field


def test_blocking_keys_pair_swapped_names():
    a = blocking_keys("customer", {"first_name": "Wei", "last_name": "Zhang"})
    b = blocking_keys("customer", {"first_name": "Zhang", "last_name": "Wei"})
    assert a & b


def test_a_record_without_values_has_no_blocking_keys():
    assert blocking_keys("customer", {}) == set()


def test_oversized_blocks_stay_linear_and_keep_close_neighbours():
    # 3,000 people sharing a surname and a postcode: the window keeps pairs near 3,000 x window, not 4.5 million.
    records = [
        {"id": str(i), "first_name": f"Name{i:05d}", "last_name": "Smith", "postcode": "10001"} for i in range(3000)
    ]
    records.append({"id": "dup", "first_name": "Name01500", "last_name": "Smith", "postcode": "10001"})
    from masterdata.matching.blocking import candidate_pairs
    from masterdata.matching.config import CUSTOMER
    from masterdata.matching.engine import _order
    from masterdata.matching.frame import Frame

    frame = Frame(records)
    pairs = candidate_pairs(frame, CUSTOMER.keys, _order(CUSTOMER, frame), CUSTOMER.window)
    assert len(pairs) <= len(records) * CUSTOMER.window * 3
    assert [1500, 3000] in pairs.tolist()


def test_nicknames_are_known_both_ways():
    assert are_nicknames("Bob", "Robert") and are_nicknames("robert", "BOB")
    assert are_nicknames("Liz", "Elizabeth")
    assert not are_nicknames("John", "Joan")
