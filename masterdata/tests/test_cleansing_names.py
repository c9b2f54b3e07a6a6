"""Person, place and company names."""

import pytest

from masterdata.cleansing import company_core
from masterdata.cleansing.base import CleanseResult
from masterdata.cleansing.locales import NO_LOCALE
from masterdata.cleansing.pipeline import cleanse_field
from masterdata.entities import Field, Kind


def run(kind, value):
    result = CleanseResult(values={})
    return cleanse_field(Field("name", kind), value, NO_LOCALE, {}, result), result


@pytest.mark.parametrize(
    ("sent", "cleaned"),
    [
        ("o'brien", "O'Brien"),
        ("MCDONALD", "McDonald"),
        ("van der berg", "van der Berg"),
        ("JEAN-LUC", "Jean-Luc"),
        ("de la cruz", "de la Cruz"),
        ("le", "Le"),
        ("ÉMILE", "Émile"),
        ("ИВАН", "Иван"),
    ],
)
def test_single_case_person_names_get_name_casing(sent, cleaned):
    assert run(Kind.PERSON_NAME, sent)[0] == cleaned


@pytest.mark.parametrize("name", ["McDonald", "deBoer", "DiCaprio", "van der Berg", "MacKenzie", "李小龍"])
def test_mixed_case_and_caseless_names_are_left_as_sent(name):
    value, result = run(Kind.PERSON_NAME, name)
    assert value == name
    assert result.changes == []


def test_casing_change_is_recorded_with_its_rule():
    _, result = run(Kind.PERSON_NAME, "MCDONALD")
    assert [(c.before, c.after, c.rule) for c in result.changes] == [("MCDONALD", "McDonald", "name.casing")]


def test_accents_are_kept_in_the_value():
    assert run(Kind.PERSON_NAME, "  Zoë   Müller ")[0] == "Zoë Müller"


def test_script_in_a_name_is_kept_as_text_not_an_error():
    value, result = run(Kind.PERSON_NAME, "<script>alert(1)</script>")
    assert value == "<script>alert(1)</script>"
    assert result.errors == {}


def test_emoji_and_mixed_scripts_do_not_break_casing():
    assert run(Kind.PERSON_NAME, "anna 😀 иванова")[0] == "Anna 😀 Иванова"


@pytest.mark.parametrize(
    ("sent", "cleaned"),
    [
        ("FRANKFURT AM MAIN", "Frankfurt am Main"),
        ("le havre", "Le Havre"),
        ("STRATFORD-UPON-AVON", "Stratford-upon-Avon"),
        ("mcallen", "McAllen"),
        ("São Paulo", "São Paulo"),
    ],
)
def test_city_casing(sent, cleaned):
    assert run(Kind.CITY, sent)[0] == cleaned


def test_street_casing_keeps_ordinals_lowercase():
    assert run(Kind.STREET, "12 5TH AVENUE")[0] == "12 5th Avenue"


def test_region_codes_are_uppercased_and_names_title_cased():
    assert run(Kind.REGION, "ny")[0] == "NY"
    assert run(Kind.REGION, "BAVARIA")[0] == "Bavaria"


@pytest.mark.parametrize(
    ("sent", "cleaned"),
    [
        ("acme gmbh", "acme GmbH"),
        ("Acme Limited", "Acme Ltd"),
        ("ACME, inc", "ACME, Inc."),
        ("Foo S. A.", "Foo S.A."),
        ("Bar s.a.r.l.", "Bar SARL"),
        ("Baz b.v.", "Baz B.V."),
        ("Müller GmbH & Co. KG", "Müller GmbH & Co. KG"),
        ("Smith & co", "Smith & Co."),
        ("Acme Corporation", "Acme Corp."),
        ("Acme llc", "Acme LLC"),
        ("Siemens ag", "Siemens AG"),
    ],
)
def test_company_legal_suffix_gets_its_canonical_spelling(sent, cleaned):
    assert run(Kind.COMPANY, sent)[0] == cleaned


def test_company_that_is_only_a_suffix_is_unchanged():
    assert run(Kind.COMPANY, "ag")[0] == "ag"


def test_company_core_strips_suffixes_for_matching():
    assert company_core("Müller GmbH & Co. KG") == "muller"
    assert company_core("ACME, Inc.") == company_core("Acme Incorporated") == "acme"
    assert company_core("Acme Ltd") == company_core("acme limited")
    assert company_core("Foo S.A.") == "foo"


def test_company_core_of_a_bare_suffix_or_nothing():
    assert company_core("AG") == "ag"
    assert company_core(None) == ""
