"""SKUs, GTINs and tax IDs."""

import pytest

from masterdata.cleansing.base import CleanseResult
from masterdata.cleansing.locales import NO_LOCALE
from masterdata.cleansing.pipeline import cleanse_field
from masterdata.entities import Field, Kind


def run(kind, value):
    result = CleanseResult(values={})
    return cleanse_field(Field("f", kind), value, NO_LOCALE, {}, result), result


@pytest.mark.parametrize(
    ("sent", "cleaned"),
    [
        ("  ab-123 ", "AB-123"),
        ("ab  12   x", "AB 12 X"),
        ("ab – 12", "AB-12"),
        ("wh\u221201", "WH-01"),
        ("sku/7.5", "SKU/7.5"),
    ],
)
def test_sku_is_trimmed_uppercased_and_keeps_dashes(sent, cleaned):
    assert run(Kind.SKU, sent)[0] == cleaned


def test_numeric_sku_from_a_spreadsheet_is_text():
    assert run(Kind.SKU, 100234)[0] == "100234"


@pytest.mark.parametrize(
    ("sent", "gtin"),
    [
        ("4006381333931", "4006381333931"),
        ("400-6381 33393 1", "4006381333931"),
        (4006381333931, "4006381333931"),
        ("96385074", "96385074"),
        ("036000291452", "036000291452"),
        ("00012345678905", "00012345678905"),
    ],
)
def test_valid_gtins_are_digits_only(sent, gtin):
    value, result = run(Kind.GTIN, sent)
    assert value == gtin
    assert result.errors == {}


def test_gtin_with_a_wrong_check_digit_names_the_expected_one():
    _, result = run(Kind.GTIN, "4006381333932")
    assert result.errors["f"] == ("GTIN 4006381333932 has check digit 2, expected 1 (mistyped or truncated barcode?)")


@pytest.mark.parametrize(
    ("sent", "reason"),
    [
        ("12345", "it has 5 digits, a GTIN has 8, 12, 13 or 14"),
        ("40063813339311", "has check digit 1, expected"),
        ("ABC4006381333931", "a GTIN has only digits"),
        ("٤٠٠٦٣٨١٣٣٣٩٣١", "a GTIN has only digits"),
        ("<script>", "a GTIN has only digits"),
    ],
)
def test_malformed_gtins_are_errors(sent, reason):
    _, result = run(Kind.GTIN, sent)
    assert reason in result.errors["f"]


def test_tax_id_is_compacted_and_uppercased():
    value, result = run(Kind.TAX_ID, "de 136.695.976")
    assert value == "DE136695976"
    assert result.warnings == {}


def test_valid_vat_numbers_of_several_countries_have_no_warning():
    for number in ("FR40303265045", "NL004495445B01", "ATU13585627", "GB980780684", "EL094259216"):
        assert run(Kind.TAX_ID, number)[1].warnings == {}


def test_invalid_vat_number_is_a_warning_not_an_error():
    value, result = run(Kind.TAX_ID, "DE123456789")
    assert value == "DE123456789"
    assert result.errors == {}
    assert "does not look like a valid DE VAT number" in result.warnings["f"]


def test_tax_ids_without_a_vat_prefix_are_not_checked():
    for number in ("12-3456789", "NOTAVAT", "123 456 789"):
        assert run(Kind.TAX_ID, number)[1].warnings == {}
