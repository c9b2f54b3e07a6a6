"""Dates to ISO 8601, day/month order by locale, and date-of-birth plausibility."""

from datetime import date, timedelta

import pytest

from masterdata.cleansing.base import CleanseResult
from masterdata.cleansing.locales import locale_info
from masterdata.cleansing.pipeline import cleanse_field
from masterdata.entities import Field, Kind


def run(value, locale=None, name="d"):
    result = CleanseResult(values={})
    return cleanse_field(Field(name, Kind.DATE), value, locale_info(locale), {}, result), result


@pytest.mark.parametrize(
    ("sent", "locale", "iso"),
    [
        ("1985-03-04", None, "1985-03-04"),
        ("1985-4-3", None, "1985-04-03"),
        ("1985-03-04T10:30:00Z", None, "1985-03-04"),
        ("19850304", None, "1985-03-04"),
        ("04-Mar-1985", None, "1985-03-04"),
        ("March 4, 1985", None, "1985-03-04"),
        ("4 March 1985", None, "1985-03-04"),
        ("03/04/1985", "en_US", "1985-03-04"),
        ("03/04/1985", "en_GB", "1985-04-03"),
        ("3.4.1985", "de_DE", "1985-04-03"),
        ("3.4.85", "de_DE", "1985-04-03"),
        ("4. März 1985", "de_DE", "1985-03-04"),
        ("4 mars 1985", "fr_FR", "1985-03-04"),
        # No part could be dateutil's default: read once.
        ("March 14, 1985", None, "1985-03-14"),
        ("14 Mar 1985", "en_US", "1985-03-14"),
        ("14. März 1985", "de_DE", "1985-03-14"),
        # Parts equal to the default (January, the 1st, 2000): read twice to tell them from missing ones.
        ("January 1, 2000", None, "2000-01-01"),
        ("31110", None, "1985-03-04"),
        (31110, None, "1985-03-04"),
    ],
)
def test_dates_become_iso(sent, locale, iso):
    value, result = run(sent, locale)
    assert value == iso
    assert result.errors == {}
    assert result.warnings == {}


def test_a_part_over_12_is_the_day_whatever_the_locale():
    assert run("13/04/1985", "en_US")[0] == "1985-04-13"
    assert run("04/13/1985", "de_DE")[0] == "1985-04-13"
    assert run("04/13/1985")[0] == "1985-04-13"


def test_same_day_and_month_is_not_ambiguous():
    value, result = run("05/05/1985")
    assert value == "1985-05-05"
    assert result.warnings == {}


def test_ambiguous_date_without_locale_is_kept_with_a_warning_giving_both_readings():
    value, result = run("03/04/1985")
    assert value == "03/04/1985"
    assert result.errors == {}
    assert "1985-04-03 (day first) or 1985-03-04 (month first)" in result.warnings["d"]


def test_unknown_locale_is_treated_as_no_locale():
    assert run("03/04/1985", "xx_YY")[1].warnings["d"]


def test_conversion_is_recorded_as_a_change():
    _, result = run("04-Mar-1985")
    assert [(c.before, c.after, c.rule) for c in result.changes] == [("04-Mar-1985", "1985-03-04", "date.iso8601")]


@pytest.mark.parametrize(
    ("sent", "reason"),
    [
        ("31/02/2020", "'31/02/2020' is not a real date: February 2020 has no day 31"),
        ("2020-13-01", "'2020-13-01' is not a real date: there is no month 13"),
        ("13/13/2020", "neither 13 nor 13 can be a month"),
        ("2019-02-29", "February 2019 has no day 29"),
        ("31 Feb 2020", "is not a real date"),
        ("March 1985", "is not a full date"),
        ("14 March", "is not a full date"),
        ("Friday, March 1985", "is not a full date"),  # 1 March 1985 was a Friday
        ("next tuesday", "is not a date format we can read"),
        ("1985", "is not a date format we can read"),
        ("<script>", "is not a date format we can read"),
    ],
)
def test_impossible_or_unreadable_dates_are_errors(sent, reason):
    _, result = run(sent, "en_GB")
    assert reason in result.errors["d"]


def test_leap_day_is_accepted():
    assert run("29.02.2020", "de_DE")[0] == "2020-02-29"


def test_date_of_birth_in_the_future_is_an_error():
    tomorrow = date.today() + timedelta(days=1)
    _, result = run(tomorrow.isoformat(), name="date_of_birth")
    assert result.errors["date_of_birth"] == f"date of birth {tomorrow} is in the future"


def test_date_of_birth_before_1900_is_an_error():
    _, result = run("1899-12-31", name="date_of_birth")
    assert result.errors["date_of_birth"] == "date of birth 1899-12-31 is before 1900"


def test_other_dates_may_be_in_the_future():
    future = (date.today() + timedelta(days=400)).isoformat()
    assert run(future, name="valid_until") == (future, CleanseResult(values={}))


def test_long_date_text_is_capped():
    _, result = run("1" * 500)
    assert "at most 64" in result.errors["d"]
