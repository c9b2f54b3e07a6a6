"""Whole records through ``cleanse``: one per entity, quarantines, hostile input."""

import json
from dataclasses import asdict

import pytest

from masterdata.cleansing import RULES, Change, cleanse
from masterdata.cleansing import registry as registry_module
from masterdata.cleansing.base import rule
from masterdata.entities import SCHEMAS, Kind


def changed(result, field):
    return [(c.before, c.after, c.rule) for c in result.changes if c.field == field]


def test_customer_is_cleansed_with_country_before_phone():
    result = cleanse(
        "customer",
        {
            "first_name": "  o'brien ",
            "last_name": "VAN DER BERG",
            "company": "acme gmbh",
            "email": " Jane.Doe@Example.COM ",
            "phone": "030 1234567",
            "street": "hauptstr. 5",
            "city": "FRANKFURT AM MAIN",
            "postcode": "60311",
            "country": "Deutschland",
            "date_of_birth": "4.3.1985",
            "tax_id": "de 136 695 976",
        },
        locale="de_DE",
    )
    assert result.errors == {}
    assert result.values == {
        "first_name": "O'Brien",
        "last_name": "van der Berg",
        "company": "acme GmbH",
        "email": "jane.doe@example.com",
        "phone": "+49301234567",
        "street": "Hauptstr. 5",
        "city": "Frankfurt am Main",
        "postcode": "60311",
        "region": None,
        "country": "DE",
        "date_of_birth": "1985-03-04",
        "tax_id": "DE136695976",
    }
    assert changed(result, "phone") == [("030 1234567", "+49301234567", "phone.e164")]


def test_us_customer_reads_month_first_dates_and_us_phones():
    result = cleanse(
        "customer",
        {"first_name": "Ann", "phone": "(650) 253-0000", "country": "U.S.A.", "date_of_birth": "03/04/1985"},
        locale="en_US",
    )
    assert result.values["phone"] == "+16502530000"
    assert result.values["date_of_birth"] == "1985-03-04"


def test_customer_quarantined_for_an_impossible_date_keeps_its_other_values():
    result = cleanse("customer", {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "31/02/2020"})
    assert result.quarantined
    assert result.errors == {"date_of_birth": "'31/02/2020' is not a real date: February 2020 has no day 31"}
    assert result.values["first_name"] == "Ann"
    assert result.values["date_of_birth"] == "31/02/2020"


def test_product_is_cleansed():
    result = cleanse(
        "product",
        {
            "sku": " ab-123 ",
            "name": "Steel  bolt\t M8",
            "unit": "pcs",
            "gtin": "400-6381-33393-1",
            "price": "€ 1.234,50",
            "currency": "€",
            "weight": "500 g",
        },
    )
    assert result.errors == {}
    assert result.values == {
        "sku": "AB-123",
        "name": "Steel bolt M8",
        "description": None,
        "unit": "EA",
        "gtin": "4006381333931",
        "price": "1234.50",
        "currency": "EUR",
        "weight": "0.5",
    }
    assert changed(result, "weight") == [("500 g", "0.5", "weight.kg")]


def test_product_quarantined_for_a_malformed_gtin_with_the_expected_check_digit():
    result = cleanse("product", {"sku": "AB-1", "name": "Bolt", "gtin": "4006381333932"})
    assert result.errors == {
        "gtin": "GTIN 4006381333932 has check digit 2, expected 1 (mistyped or truncated barcode?)"
    }
    assert result.values["gtin"] == "4006381333932"


def test_product_without_required_fields_is_quarantined():
    result = cleanse("product", {"description": "no sku, no name", "sku": "   "})
    assert result.errors == {"sku": "SKU is required", "name": "Name is required"}


def test_supplier_is_cleansed():
    result = cleanse(
        "supplier",
        {
            "name": "Widgets limited",
            "tax_id": "GB 980 7806 84",
            "email": "Sales@Widgets.co.uk",
            "phone": "020 7946 0958",
            "postcode": "sw1a1aa",
            "city": "LONDON",
            "country": "UK",
        },
    )
    assert result.errors == {}
    assert result.warnings == {}
    assert result.values["name"] == "Widgets Ltd"
    assert result.values["tax_id"] == "GB980780684"
    assert result.values["phone"] == "+442079460958"
    assert result.values["postcode"] == "SW1A 1AA"
    assert result.values["city"] == "London"
    assert result.values["country"] == "GB"


def test_location_is_cleansed():
    result = cleanse(
        "location",
        {"code": "wh – 01", "name": "Central  Warehouse", "location_type": "Warehouse", "region": "nsw",
         "country": "Australia", "postcode": "2000"},
    )  # fmt: skip
    assert result.errors == {}
    assert result.values == {
        "code": "WH-01",
        "name": "Central Warehouse",
        "location_type": "warehouse",
        "street": None,
        "city": None,
        "postcode": "2000",
        "region": "NSW",
        "country": "AU",
    }


def test_unknown_keys_are_ignored_and_kept_out_of_values():
    result = cleanse("location", {"code": "A", "name": "B", "secret": "x", "__proto__": {"a": 1}})
    assert set(result.values) == set(SCHEMAS["location"].field_names)
    assert result.errors == {}


def test_ambiguous_date_without_locale_is_a_warning_not_a_quarantine():
    result = cleanse("customer", {"first_name": "Ann", "date_of_birth": "03/04/1985"})
    assert result.errors == {}
    assert "ambiguous" in result.warnings["date_of_birth"]


HOSTILE = [
    None,
    "",
    "   ",
    0,
    -1,
    3.5,
    float("inf"),
    True,
    [],
    {"nested": "dict"},
    "x" * 10_000,
    "<script>alert('x')</script>",
    "😀🙃🔥",
    "Ivan Иванов 李",
    "\x00\x1b[31m\u202e",
    "\udcff",
    "' OR 1=1; --",
]


@pytest.mark.parametrize("entity", list(SCHEMAS))
@pytest.mark.parametrize("junk", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_values_in_every_field_never_raise_and_stay_json_serializable(entity, junk):
    raw = dict.fromkeys(SCHEMAS[entity].field_names, junk)
    result = cleanse(entity, raw, locale="en_GB")
    encoded = json.dumps(asdict(result), allow_nan=False)
    encoded.encode("utf-8")
    assert set(result.values) == set(SCHEMAS[entity].field_names)
    assert all(v is None or (isinstance(v, str) and len(v) <= 5000) for v in result.values.values())


def test_html_in_a_name_is_kept_as_text_and_control_characters_removed():
    result = cleanse("customer", {"first_name": "<b>Ann</b>\x00\x07", "last_name": "<script>alert(1)</script>"})
    assert result.values["first_name"] == "<b>Ann</b>"
    assert result.values["last_name"] == "<script>alert(1)</script>"
    assert result.errors == {}


def test_ten_thousand_character_email_is_an_error_and_capped():
    result = cleanse("customer", {"email": "a" * 10_000 + "@example.com"})
    assert result.errors["email"] == "is 10012 characters long; at most 254 are allowed"
    assert len(result.values["email"]) == 254


@pytest.mark.parametrize("raw", [None, "a string", ["list"], 42])
def test_a_record_that_is_not_a_mapping_is_an_error(raw):
    result = cleanse("customer", raw)
    assert result.errors["record"].startswith("expected an object of fields")
    assert all(v is None for v in result.values.values())


def test_unknown_entity_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown entity"):
        cleanse("spaceship", {})


def test_a_failing_rule_becomes_an_error_not_an_exception(monkeypatch):
    @rule("test.explodes")
    def explodes(text, ctx):
        """Always fails (test only)."""
        raise RuntimeError("boom")

    try:
        monkeypatch.setitem(registry_module.KIND_RULES, Kind.CITY, (explodes,))
        result = cleanse("location", {"code": "A", "name": "B", "city": "Paris"})
    finally:
        RULES.pop("test.explodes")
    assert result.errors == {"city": "could not be cleaned (rule test.explodes failed); please report this value"}
    assert result.values["city"] == "Paris"


def test_changes_are_json_serializable_dataclasses():
    result = cleanse("product", {"sku": "a", "name": "b", "price": 12.0, "weight": "1 lb"})
    payload = json.loads(json.dumps([asdict(c) for c in result.changes]))
    assert payload[0] == {"field": "sku", "before": "a", "after": "A", "rule": "sku.normalize"}
    assert all(isinstance(c, Change) for c in result.changes)


def test_every_kind_has_a_chain_and_every_rule_a_name_and_docstring():
    assert set(registry_module.KIND_RULES) == set(Kind)
    for chain in registry_module.KIND_RULES.values():
        assert all(r.name in RULES and r.doc for r in chain)
    assert all("." in name for name in RULES)


def test_rule_names_are_unique():
    with pytest.raises(ValueError, match="duplicate cleansing rule name"):
        rule("text.nfc")(lambda text, ctx: text)


def test_rules_need_a_docstring():
    with pytest.raises(ValueError, match="needs a docstring"):
        rule("test.undocumented")(lambda text, ctx: text)
