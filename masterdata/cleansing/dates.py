"""Dates to ISO 8601 from the formats sources really send.

Accepted: ISO ("1985-03-04", "1985-4-3", with or without a time), numeric
day/month/year with "/", "." or "-" ("03/04/1985", "3.4.85"), compact
"19850304", Excel serial day numbers ("31110"), and dates with a month name
("04-Mar-1985", "March 4, 1985", "4. März 1985" when the locale is German;
python-dateutil reads these). Day/month order of numeric dates: a part over 12
must be the day; otherwise the locale decides (month first where CLDR writes
short dates month first, e.g. en_US). With no locale and both parts 12 or less
the value is kept as sent with a warning giving both readings: a guessed date
in a golden record is worse than a flagged one.
"""

import calendar
import re
from datetime import date, datetime, timedelta
from functools import lru_cache

from dateutil import parser as dateutil_parser

from masterdata.cleansing.base import Context, Reject, rule, short
from masterdata.cleansing.locales import LocaleInfo

_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2}|[AP]M)?)?"
_ISO = re.compile(rf"^(\d{{4}})[-/.](\d{{1,2}})[-/.](\d{{1,2}}){_TIME}$", re.IGNORECASE)
_NUMERIC = re.compile(rf"^(\d{{1,2}})[/.\-](\d{{1,2}})[/.\-](\d{{4}}|\d{{2}}){_TIME}$", re.IGNORECASE)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_EXCEL_SERIAL = re.compile(r"^(\d{5})(?:\.\d+)?$")
_EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 is 1900-01-01 (Excel's phantom 29 Feb 1900 included)
_ENGLISH_MONTHS = dict(enumerate(calendar.month_abbr))
_LETTER = re.compile(r"[^\W\d_]")
# dateutil fills the parts a text lacks from its default: parsed with two defaults that
# differ in year, month and day, a partial date shows up as a difference.
_DEFAULT = datetime(2000, 1, 1)
_OTHER_DEFAULT = datetime(2001, 2, 2)


def make_date(year: int, month: int, day: int, text: str) -> date:
    """The date, or ``Reject`` saying in words why it does not exist."""
    if not 1 <= month <= 12:
        raise Reject(f"{short(text)} is not a real date: there is no month {month}")
    last = calendar.monthrange(year, month)[1] if year >= 1 else 31
    if not 1 <= day <= last:
        raise Reject(f"{short(text)} is not a real date: {calendar.month_name[month]} {year} has no day {day}")
    if year < 1:
        raise Reject(f"{short(text)} is not a real date: there is no year {year}")
    return date(year, month, day)


def _full_year(year: str) -> int:
    """Two-digit years fall in the last hundred years, so "85" is 1985."""
    if len(year) == 4:
        return int(year)
    this_century, short_year = divmod(date.today().year, 100)
    return (this_century - (int(year) > short_year)) * 100 + int(year)


def _numeric(match: re.Match, text: str, ctx: Context) -> date | None:
    first, second, year = int(match[1]), int(match[2]), _full_year(match[3])
    if first > 12 and second > 12:
        raise Reject(f"{short(text)} is not a real date: neither {first} nor {second} can be a month")
    month_first = ctx.locale.month_first
    if first > 12 or second > 12 or first == second:
        month_first = second > 12
    elif month_first is None:
        day_first, other = make_date(year, second, first, text), make_date(year, first, second, text)
        ctx.warn(f"{short(text)} is ambiguous: {day_first} (day first) or {other} (month first); declare the locale")
        return None
    return make_date(year, first, second, text) if month_first else make_date(year, second, first, text)


@lru_cache(maxsize=64)
def _month_patterns(month_names: tuple[tuple[str, int], ...]) -> tuple[tuple[re.Pattern, str], ...]:
    """A locale's month names as compiled patterns with their English replacements,
    longest name first ("märz" is tried before "mär"); compiled once per locale."""
    longest_first = sorted(month_names, key=lambda item: -len(item[0]))
    return tuple(
        (re.compile(rf"\b{re.escape(name)}\b\.?"), f" {_ENGLISH_MONTHS[number]} ")
        for name, number in longest_first
        if len(name) > 2
    )


def _in_english(text: str, locale: LocaleInfo) -> str:
    """Replace the locale's month names ("März", "mars") with English ones."""
    lowered = text.lower()
    for pattern, english in _month_patterns(locale.month_names):
        if pattern.search(lowered):
            return pattern.sub(english, lowered)
    return text


def _may_lack_a_part(parsed: datetime) -> bool:
    """Whether ``parsed`` (read with ``_DEFAULT``) may have taken a part from the default,
    which only a second parse with ``_OTHER_DEFAULT`` tells. A missing part is the
    default's (2000, January, the 1st), with one exception: a weekday in the text moves a
    missing day on to that weekday ("Monday March 1985"), and when that lands after the
    1st, the other default's 2nd lands on the same day, so both parses agree anyway."""
    return parsed.year == _DEFAULT.year or parsed.month == _DEFAULT.month or parsed.day == _DEFAULT.day


def _with_month_name(text: str, ctx: Context) -> date:
    english = _in_english(text, ctx.locale)
    dayfirst = not ctx.locale.month_first
    try:
        one = two = dateutil_parser.parse(english, dayfirst=dayfirst, default=_DEFAULT)
        if _may_lack_a_part(one):  # most full dates are read once: a second parse costs as much again
            two = dateutil_parser.parse(english, dayfirst=dayfirst, default=_OTHER_DEFAULT)
    except (ValueError, OverflowError) as exc:
        if "out of range" in str(exc):
            raise Reject(f"{short(text)} is not a real date: {exc}") from None
        raise Reject(f"{short(text)} is not a date format we can read") from None
    if one.date() != two.date():
        raise Reject(f"{short(text)} is not a full date (day, month and year are needed)")
    return one.date()


def parse_date(text: str, ctx: Context) -> date | None:
    """The date ``text`` stands for; None when it is ambiguous (with a warning)."""
    if match := _ISO.match(text) or _COMPACT.match(text):
        return make_date(int(match[1]), int(match[2]), int(match[3]), text)
    if match := _NUMERIC.match(text):
        return _numeric(match, text, ctx)
    if match := _EXCEL_SERIAL.match(text):
        return _EXCEL_EPOCH + timedelta(days=int(match[1]))
    if _LETTER.search(text):
        return _with_month_name(text, ctx)
    raise Reject(f"{short(text)} is not a date format we can read")


@rule("date.iso8601")
def date_iso(text: str, ctx: Context) -> str | None:
    """Dates become ISO 8601 ("1985-03-04") from ISO, day/month/year, compact,
    Excel serial and month-name forms; day/month order follows the source's
    locale. An impossible date (31/02/2020, month 13) is an error; one still
    ambiguous (03/04/1985 with no locale) is kept as sent, with a warning."""
    parsed = parse_date(text, ctx)
    return parsed.isoformat() if parsed else text


BIRTH_MIN = date(1900, 1, 1)


@rule("date.birth_range")
def birth_range(text: str, ctx: Context) -> str | None:
    """A date of birth in the future or before 1900 is an error."""
    try:
        born = date.fromisoformat(text)
    except ValueError:
        return text  # still ambiguous: already flagged by date.iso8601
    if born > date.today():
        raise Reject(f"date of birth {born} is in the future")
    if born < BIRTH_MIN:
        raise Reject(f"date of birth {born} is before 1900")
    return text
