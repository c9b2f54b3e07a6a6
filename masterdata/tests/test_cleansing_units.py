"""Units of measure, conversions, and weights in kilograms."""

import re
from decimal import Decimal

import pytest

from masterdata.cleansing import convert, find_unit
from masterdata.cleansing.base import CleanseResult
from masterdata.cleansing.locales import locale_info
from masterdata.cleansing.pipeline import cleanse_field
from masterdata.entities import Field, Kind


def run(kind, value, locale=None):
    result = CleanseResult(values={})
    return cleanse_field(Field("f", kind), value, locale_info(locale), {}, result), result


@pytest.mark.parametrize(
    ("sent", "code"),
    [
        ("pcs", "EA"),
        ("Piece", "EA"),
        ("ea", "EA"),
        ("each", "EA"),
        ("H87", "EA"),
        ("kg", "KG"),
        ("Kilogram", "KG"),
        ("KGM", "KG"),
        ("g", "G"),
        ("gram", "G"),
        ("lbs", "LB"),
        ("lb.", "LB"),
        ("l", "L"),
        ("Litre", "L"),
        ("liter", "L"),
        ("ml", "ML"),
        ("m", "M"),
        ("cm", "CM"),
        ("mm", "MM"),
        ("box", "BOX"),
        ("Pack", "PACK"),
        ("dozen", "DZ"),
        ("Stück", "EA"),
    ],
)
def test_units_become_canonical_codes(sent, code):
    value, result = run(Kind.UNIT, sent)
    assert value == code
    assert result.errors == {}


@pytest.mark.parametrize("junk", ["parsec", "furlongs", "🍌", "<script>", "12"])
def test_unknown_unit_is_an_error(junk):
    _, result = run(Kind.UNIT, junk)
    assert "is not a unit of measure we know" in result.errors["f"]


def test_convert_uses_decimal_factors():
    assert convert(Decimal("500"), "g", "kg") == Decimal("0.5")
    assert convert("1.2", "lb", "kg") == Decimal("0.544310844")
    assert convert(1, "kg", "lb") == Decimal(1) / Decimal("0.45359237")
    assert convert(250, "ml", "L") == Decimal("0.25")
    assert convert(3, "dozen", "ea") == 36
    assert convert(2, "box", "BOX") == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((1, "kg", "m"), "cannot convert KG (mass) to M (length)"),
        ((1, "parsec", "m"), "unknown unit of measure 'parsec'"),
        ((1, "box", "ea"), "BOX holds a product-specific quantity"),
    ],
)
def test_convert_refuses_what_cannot_be_converted(args, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        convert(*args)


def test_convert_reads_floats_by_their_text_and_refuses_non_numbers():
    assert convert(0.1, "kg", "g") == Decimal("100")
    with pytest.raises(ValueError, match="is not a quantity"):
        convert("abc", "kg", "g")


def test_find_unit_returns_none_for_unknown():
    assert find_unit("bushel") is None
    assert find_unit(None) is None


@pytest.mark.parametrize(
    ("sent", "locale", "kilograms"),
    [
        ("500 g", None, "0.5"),
        ("1.2 lb", None, "0.544310844"),
        ("1.2lbs", None, "0.544310844"),
        ("2,5 kg", "de_DE", "2.5"),
        ("1500 g", None, "1.5"),
        ("2 t", None, "2000"),
        ("16 oz", None, "0.45359237"),
        (3, None, "3"),
    ],
)
def test_weights_become_kilograms(sent, locale, kilograms):
    value, result = run(Kind.WEIGHT, sent, locale)
    assert value == kilograms
    assert result.errors == {}


def test_weight_conversion_is_recorded():
    _, result = run(Kind.WEIGHT, "500 g")
    assert [(c.before, c.after, c.rule) for c in result.changes] == [("500 g", "0.5", "weight.kg")]


@pytest.mark.parametrize(
    ("sent", "reason"),
    [
        ("5 m", "cannot convert M (length) to KG (mass)"),
        ("10 stone", "unknown unit of measure 'stone'"),
        ("-1 kg", "is negative"),
        ("heavy", "is not a weight"),
        ("2 boxes", "BOX holds a product-specific quantity"),
    ],
)
def test_bad_weights_are_errors(sent, reason):
    _, result = run(Kind.WEIGHT, sent)
    assert reason in result.errors["f"]
