"""What a source's declared locale tells the rules, read from CLDR via Babel.

A locale such as "en_US", "de-DE" or "fr" decides the day/month order of
numeric dates, the decimal separator of amounts, the country a phone number is
dialled from when the record has none, and which currency "$" or "kr" means.
An unknown or missing locale gives ``NO_LOCALE``: every field is left neutral
(ambiguous dates are flagged rather than guessed).
"""

from dataclasses import dataclass
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import get_date_format, get_month_names
from babel.numbers import get_currency_symbol, get_decimal_symbol, get_territory_currencies


@dataclass(frozen=True)
class LocaleInfo:
    tag: str | None = None
    territory: str | None = None  # ISO 3166-1 alpha-2, only when the locale names one
    decimal: str | None = None  # "." or ","
    month_first: bool | None = None  # numeric dates: month before day?
    currency: str | None = None  # the territory's ISO 4217 currency
    currency_symbol: str | None = None  # how the locale writes that currency
    month_names: tuple[tuple[str, int], ...] = ()  # localized month names, lowercased


NO_LOCALE = LocaleInfo()


def _parse(tag: str) -> Locale | None:
    for sep in ("_", "-"):
        try:
            return Locale.parse(tag.strip(), sep=sep)
        except (UnknownLocaleError, ValueError, TypeError):
            continue
    return None


def _month_names(loc: Locale) -> tuple[tuple[str, int], ...]:
    names = {}
    for width in ("wide", "abbreviated"):
        for context in ("format", "stand-alone"):
            for number, name in get_month_names(width, context, locale=loc).items():
                names[name.lower().rstrip(".")] = number
    return tuple(names.items())


@lru_cache(maxsize=256)
def locale_info(tag: str | None) -> LocaleInfo:
    """The facts the rules need about ``tag``; ``NO_LOCALE`` when it is unknown."""
    loc = _parse(tag) if isinstance(tag, str) and tag.strip() else None
    if loc is None:
        return NO_LOCALE
    pattern = get_date_format("short", locale=loc).pattern
    currencies = get_territory_currencies(loc.territory) if loc.territory else []
    currency = currencies[0] if currencies else None
    return LocaleInfo(
        tag=str(loc),
        territory=loc.territory,
        decimal=get_decimal_symbol(loc),
        month_first=pattern.find("M") < pattern.find("d"),
        currency=currency,
        currency_symbol=get_currency_symbol(currency, locale=loc) if currency else None,
        month_names=_month_names(loc),
    )
