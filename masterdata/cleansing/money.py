"""Currencies (ISO 4217 via pycountry) and amounts (``Decimal`` strings).

Amount separators: when both "." and "," appear, the last one is the decimal
separator ("1.234,56", "1,234.56"); a separator that repeats groups thousands
("1.234.567"). A single separator followed by exactly three digits ("1.234",
"1,234") is ambiguous: the locale's decimal symbol decides; with no locale "."
is read as decimal and "," as thousands (the usual form in data feeds), with a
warning. Amounts keep the precision sent ("12.50" stays "12.50").
"""

import re
from decimal import Decimal
from functools import lru_cache

import pycountry

from masterdata.cleansing.base import Context, Reject, rule, short
from masterdata.cleansing.locales import LocaleInfo
from masterdata.cleansing.text import fold

# Symbol -> currency when the locale's own currency is not written that way.
# None: too ambiguous to guess without a locale.
CURRENCY_SYMBOLS = {
    "€": "EUR", "$": "USD", "us$": "USD", "£": "GBP", "¥": "JPY", "￥": "JPY", "₹": "INR", "₽": "RUB",
    "₩": "KRW", "₺": "TRY", "₪": "ILS", "฿": "THB", "₫": "VND", "₱": "PHP", "₴": "UAH", "₦": "NGN",
    "c$": "CAD", "ca$": "CAD", "a$": "AUD", "au$": "AUD", "nz$": "NZD", "hk$": "HKD", "s$": "SGD",
    "r$": "BRL", "mx$": "MXN", "zł": "PLN", "kč": "CZK", "ft": "HUF", "fr": "CHF", "kr": None, "lei": "RON",
}  # fmt: skip
# Folded names pycountry does not know (it knows "Euro", "US Dollar", "Pound Sterling", …).
CURRENCY_NAMES = {
    "euro": "EUR", "euros": "EUR", "dollar": "USD", "dollars": "USD", "us dollars": "USD", "pound": "GBP",
    "pounds": "GBP", "sterling": "GBP", "british pound": "GBP", "yen": "JPY", "yuan": "CNY", "renminbi": "CNY",
    "rmb": "CNY", "swiss franc": "CHF", "franken": "CHF", "zloty": "PLN", "rupee": "INR", "rupees": "INR",
    "ruble": "RUB", "rouble": "RUB", "won": "KRW", "real": "BRL", "reais": "BRL",
}  # fmt: skip
_AMOUNT = re.compile(r"^\d[\d.,'’ ]*$")


@lru_cache(maxsize=4096)
def currency_code(text: str, locale: LocaleInfo) -> str | None:
    """The ISO 4217 code for a code, name or symbol; a symbol the locale uses for
    its own currency means that currency ("$" is CAD in en_CA, "kr" SEK in
    sv_SE), otherwise the usual one ("$" is USD). None when unknown."""
    cleaned = text.strip().casefold().rstrip(".")
    if locale.currency_symbol and cleaned == locale.currency_symbol.casefold().rstrip("."):
        return locale.currency
    if cleaned in CURRENCY_SYMBOLS:
        return CURRENCY_SYMBOLS[cleaned]
    folded = fold(text)
    if folded in CURRENCY_NAMES:
        return CURRENCY_NAMES[folded]
    try:
        return pycountry.currencies.lookup(text.strip()).alpha_3
    except LookupError:
        return None


@rule("currency.iso4217")
def currency_iso(text: str, ctx: Context) -> str | None:
    """Currencies become ISO 4217 codes from codes, English names and symbols
    ("€" -> "EUR", "$" -> "USD", or the locale's dollar). Unknown is an error."""
    code = currency_code(text, ctx.locale)
    if code is None:
        raise Reject(f"{short(text)} is not a currency we know (use an ISO 4217 code such as EUR)")
    return code


def _decimal_separator(number: str, locale: LocaleInfo, warn) -> str | None:
    dots, commas = number.count("."), number.count(",")
    if dots and commas:
        return "." if number.rfind(".") > number.rfind(",") else ","
    sep = "." if dots else "," if commas else None
    if sep is None or number.count(sep) > 1:
        return None
    if len(number) - number.rfind(sep) - 1 != 3 or number.startswith("0" + sep):
        return sep
    if not locale.decimal:
        warn(f"{short(number)} could be read two ways; read with '.' as the decimal separator (declare the locale)")
    return sep if sep == (locale.decimal or ".") else None


_GROUPED = re.compile(r"^(\d+|\d{1,3}([.,'’ ]\d{3})+)$")


def parse_decimal(text: str, locale: LocaleInfo, warn=lambda reason: None) -> Decimal:
    """``text`` ("1.234,56", "1,234.56", "12.5", "1 234", "1'234.50") as a Decimal;
    ``ValueError`` when it is not a number."""
    number = text.strip().replace("\u00a0", " ").replace("\u202f", " ")
    sign = "-" if number.startswith("-") else ""
    number = number[1:].lstrip() if number[:1] in ("+", "-") else number
    if not _AMOUNT.match(number):
        raise ValueError(f"{short(text)} is not a number")
    sep = _decimal_separator(number, locale, warn)
    integer, _, fraction = number.rpartition(sep) if sep else (number, "", "")
    if not _GROUPED.match(integer) or (sep and not fraction.isdigit()):
        raise ValueError(f"{short(text)} is not a number")
    return Decimal(sign + re.sub(r"\D", "", integer) + ("." + fraction if sep else ""))


def format_decimal(value: Decimal) -> str:
    """Plain decimal text, never scientific notation."""
    return format(value, "f")


_CURRENCY_AROUND = re.compile(r"^\s*([^\d\s+\-(.,]*)\s*(\(?[+-]?[\d.,'’\s]*\d\)?)\s*([^\d\s.,)]*)\s*$")


@rule("money.decimal")
def money_decimal(text: str, ctx: Context) -> str | None:
    """Amounts become decimal strings: "1.234,56" -> "1234.56", "€ 12,50" ->
    "12.50", "(12.00)" -> "-12.00"; a currency sign, code or name around the
    number is dropped (the currency field holds it), anything else is not. A negative amount is a warning; text
    that is not an amount is an error."""
    match = _CURRENCY_AROUND.match(text)
    affix = match and (match[1] or match[3])
    if not match or (affix and currency_code(affix, ctx.locale) is None):
        raise Reject(f"{short(text)} is not an amount")
    number = match[2]
    negative = number.startswith("(") and number.endswith(")")
    try:
        amount = parse_decimal(number.strip("()"), ctx.locale, ctx.warn)
    except ValueError as exc:
        raise Reject(str(exc)) from None
    amount = -amount if negative else amount
    if amount < 0:
        ctx.warn(f"amount {format_decimal(amount)} is negative")
    return format_decimal(amount)
