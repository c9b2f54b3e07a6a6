"""Emails and phone numbers."""

import pytest

from masterdata.cleansing.base import CleanseResult
from masterdata.cleansing.locales import locale_info
from masterdata.cleansing.pipeline import cleanse_field
from masterdata.entities import Field, Kind


def run(kind, value, locale=None, **record):
    result = CleanseResult(values={})
    return cleanse_field(Field("f", kind), value, locale_info(locale), record, result), result


def test_email_is_trimmed_and_lowercased_with_changes():
    value, result = run(Kind.EMAIL, "  Jane.Doe@Example.COM ")
    assert value == "jane.doe@example.com"
    assert [c.rule for c in result.changes] == ["text.whitespace", "email.lowercase"]


def test_email_is_extracted_from_display_and_mailto_forms():
    assert run(Kind.EMAIL, "Jane Doe <jane@example.com>")[0] == "jane@example.com"
    assert run(Kind.EMAIL, "mailto:jane@example.com")[0] == "jane@example.com"


def test_international_domain_is_accepted():
    value, result = run(Kind.EMAIL, "anna@müller.de")
    assert value == "anna@müller.de"
    assert result.errors == {}


@pytest.mark.parametrize(
    ("sent", "reason"),
    [
        ("jane.example.com", "it has no @"),
        ("jane@", "no domain after the @"),
        ("@example.com", "nothing before the @"),
        ("jane@localhost", "has no dot"),
        ("<script>@x.com", "is not a valid email address"),
    ],
)
def test_invalid_email_is_an_error_with_a_readable_reason(sent, reason):
    _, result = run(Kind.EMAIL, sent)
    assert "is not a valid email address" in result.errors["f"]
    assert reason in result.errors["f"]


def test_phone_is_read_in_the_records_country():
    value, result = run(Kind.PHONE, "030 1234567", country="DE")
    assert value == "+49301234567"
    assert result.changes[-1].rule == "phone.e164"


def test_phone_falls_back_to_the_locales_country():
    assert run(Kind.PHONE, "(650) 253-0000", locale="en_US")[0] == "+16502530000"


def test_records_country_wins_over_the_locale():
    assert run(Kind.PHONE, "020 7946 0958", locale="en_US", country="GB")[0] == "+442079460958"


def test_a_country_that_failed_cleansing_is_not_used_as_region():
    assert run(Kind.PHONE, "(650) 253-0000", locale="en_US", country="XX")[0] == "+16502530000"


def test_international_phone_needs_no_region_and_00_prefix_works():
    assert run(Kind.PHONE, "+44 20 7946 0958")[0] == "+442079460958"
    assert run(Kind.PHONE, "0044 20 7946 0958")[0] == "+442079460958"


def test_national_number_without_any_country_is_an_error():
    _, result = run(Kind.PHONE, "030 1234567")
    assert "without a country" in result.errors["f"]


def test_invalid_phone_is_an_error():
    _, result = run(Kind.PHONE, "+49 12", country="DE")
    assert "not a valid phone number" in result.errors["f"]


@pytest.mark.parametrize("junk", ["call me", "☎☎☎", "<b>123</b>", "1" * 60])
def test_junk_phone_is_an_error_not_an_exception(junk):
    value, result = run(Kind.PHONE, junk, country="US")
    assert "f" in result.errors
    assert value is not None


def test_extension_is_dropped_with_a_warning():
    value, result = run(Kind.PHONE, "+1 650-253-0000 ext. 12")
    assert value == "+16502530000"
    assert "extension 12 dropped" in result.warnings["f"]
