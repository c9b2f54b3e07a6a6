"""Currencies (ISO 4217) and amounts (Decimal strings)."""

from decimal import Decimal

import pytest

from masterdata.cleansing.base import CleanseResult
from masterdata.cleansing.locales import NO_LOCALE, locale_info
from masterdata.cleansing.money import parse_decimal
from masterdata.cleansing.pipeline import cleanse_field
from masterdata.entities import Field, Kind


def run(kind, value, locale=None):
    result = CleanseResult(values={})
    return cleanse_field(Field("f", kind), value, locale_info(locale), {}, result), result


@pytest.mark.parametrize(
    ("sent", "locale", "code"),
    [
        ("eur", None, "EUR"),
        ("€", None, "EUR"),
        ("Euro", None, "EUR"),
        ("US Dollar", None, "USD"),
        ("$", None, "USD"),
        ("$", "en_US", "USD"),
        ("$", "en_CA", "CAD"),
        ("$", "es_MX", "MXN"),
        ("£", None, "GBP"),
        ("Pound Sterling", None, "GBP"),
        ("kr", "sv_SE", "SEK"),
        ("kr", "da_DK", "DKK"),
        ("¥", "zh_CN", "CNY"),
        ("¥", None, "JPY"),
        ("CHF", None, "CHF"),
    ],
)
def test_currency_becomes_iso4217(sent, locale, code):
    value, result = run(Kind.CURRENCY, sent, locale)
    assert value == code
    assert result.errors == {}


@pytest.mark.parametrize("junk", ["XYZ", "kr", "money", "💶", "DEM"])
def test_unknown_or_ambiguous_currency_is_an_error(junk):
    _, result = run(Kind.CURRENCY, junk)
    assert "is not a currency we know" in result.errors["f"]


@pytest.mark.parametrize(
    ("sent", "locale", "amount"),
    [
        ("1.234,56", None, "1234.56"),
        ("1,234.56", None, "1234.56"),
        ("€ 12,50", None, "12.50"),
        ("12.5", None, "12.5"),
        ("12,5 €", "de_DE", "12.5"),
        ("1.234", "de_DE", "1234"),
        ("1.234", "en_US", "1.234"),
        ("1,234", "en_US", "1234"),
        ("1 234,56", "fr_FR", "1234.56"),
        ("1'234.50", "de_CH", "1234.50"),
        ("USD 10", None, "10"),
        ("1.234.567,89", None, "1234567.89"),
        (12.5, None, "12.5"),
        (10, None, "10"),
    ],
)
def test_amounts_become_decimal_strings(sent, locale, amount):
    value, result = run(Kind.MONEY, sent, locale)
    assert value == amount
    assert result.errors == {}
    assert Decimal(value) == Decimal(amount)


def test_amount_kept_as_sent_has_no_change():
    assert run(Kind.MONEY, "12.50") == ("12.50", CleanseResult(values={}))


def test_ambiguous_thousands_without_locale_is_read_english_style_with_a_warning():
    value, result = run(Kind.MONEY, "1,234")
    assert value == "1234"
    assert "could be read two ways" in result.warnings["f"]


def test_negative_amount_in_parentheses_is_kept_with_a_warning():
    value, result = run(Kind.MONEY, "(12.00)")
    assert value == "-12.00"
    assert "is negative" in result.warnings["f"]


@pytest.mark.parametrize("junk", ["abc", "1.2.3", "12,34,5", "1e5", "--5", "💰", "<b>5</b>", "12."])
def test_text_that_is_not_an_amount_is_an_error(junk):
    _, result = run(Kind.MONEY, junk)
    assert "is not a" in result.errors["f"]


def test_parse_decimal_raises_value_error_for_junk():
    assert parse_decimal("1 000", NO_LOCALE) == Decimal(1000)
    with pytest.raises(ValueError, match="is not a number"):
        parse_decimal("one", NO_LOCALE)
