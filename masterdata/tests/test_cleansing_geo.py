"""Countries, postcodes and street matching forms."""

import pytest

from masterdata.cleansing import country_code, street_core
from masterdata.cleansing.base import CleanseResult
from masterdata.cleansing.locales import NO_LOCALE
from masterdata.cleansing.pipeline import cleanse_field
from masterdata.entities import Field, Kind


def run(kind, value, **record):
    result = CleanseResult(values={})
    return cleanse_field(Field("f", kind), value, NO_LOCALE, record, result), result


@pytest.mark.parametrize(
    ("sent", "code"),
    [
        ("Germany", "DE"),
        ("Deutschland", "DE"),
        ("United Kingdom", "GB"),
        ("UK", "GB"),
        ("U.S.A.", "US"),
        ("United States", "US"),
        ("usa", "US"),
        ("GBR", "GB"),
        ("fr", "FR"),
        ("276", "DE"),
        ("Österreich", "AT"),
        ("Côte d'Ivoire", "CI"),
        ("the netherlands", "NL"),
        ("Russia", "RU"),
    ],
)
def test_country_becomes_iso_alpha2(sent, code):
    value, result = run(Kind.COUNTRY, sent)
    assert value == code
    assert result.errors == {}


def test_country_change_is_recorded():
    _, result = run(Kind.COUNTRY, "Deutschland")
    assert [(c.before, c.after, c.rule) for c in result.changes] == [("Deutschland", "DE", "country.iso_alpha2")]


@pytest.mark.parametrize("junk", ["Atlantis", "XX", "🇩🇪🙂", "<script>", "a" * 64])
def test_unknown_country_is_an_error(junk):
    _, result = run(Kind.COUNTRY, junk)
    assert "is not a country we know" in result.errors["f"]


def test_country_code_helper_returns_none_for_unknown():
    assert country_code("Narnia") is None


@pytest.mark.parametrize(
    ("sent", "country", "cleaned"),
    [
        ("sw1a1aa", "GB", "SW1A 1AA"),
        ("M11AE", "GB", "M1 1AE"),
        ("1234ab", "NL", "1234 AB"),
        ("k1a0b1", "CA", "K1A 0B1"),
        ("12345 6789", "US", "12345-6789"),
        ("12345", "US", "12345"),
        ("11455", "SE", "114 55"),
        ("00950", "PL", "00-950"),
        ("60311", "DE", "60311"),
        ("d02 x285", None, "D02 X285"),
    ],
)
def test_postcode_spacing_follows_the_country(sent, country, cleaned):
    assert run(Kind.POSTCODE, sent, country=country)[0] == cleaned


def test_postcode_not_matching_its_country_is_kept_with_a_warning():
    value, result = run(Kind.POSTCODE, "ABC", country="NL")
    assert value == "ABC"
    assert "does not look like a postcode of NL" in result.warnings["f"]
    assert result.errors == {}


def test_street_core_expands_abbreviations():
    assert street_core("12 Main St.") == street_core("12 main street") == "12 main street"
    assert street_core("Hauptstr. 5") == street_core("Hauptstraße 5") == "hauptstrasse 5"
    assert street_core("Hauptstrasse 5") == "hauptstrasse 5"
    assert street_core("1 Oak Rd") == "1 oak road"
    assert street_core("5th Ave") == street_core("5th Avenue")


def test_street_core_of_nothing():
    assert street_core(None) == ""
