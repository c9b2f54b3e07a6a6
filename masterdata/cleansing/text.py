"""Rules every text value goes through, and ``fold`` (the matching form of a text).

Length caps: free text (``Kind.TEXT``) is cut at ``TEXT_LIMIT`` characters with
a warning, since long descriptions are legitimate but unbounded input is not.
Every other kind has a cap in ``LIMITS`` (``DEFAULT_LIMIT`` otherwise); a value
over it is an error, and the field keeps its first characters up to the cap so
that a quarantined record stays small enough to show.
"""

import math
import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal

from unidecode import unidecode

from masterdata.cleansing.base import Context, Reject, rule
from masterdata.entities import Kind

TEXT_LIMIT = 5000
DEFAULT_LIMIT = 255
LIMITS = {
    Kind.EMAIL: 254,  # RFC 5321
    Kind.PHONE: 64,
    Kind.POSTCODE: 32,
    Kind.COUNTRY: 64,
    Kind.DATE: 64,
    Kind.TAX_ID: 64,
    Kind.SKU: 64,
    Kind.GTIN: 32,
    Kind.MONEY: 64,
    Kind.CURRENCY: 32,
    Kind.UNIT: 32,
    Kind.WEIGHT: 64,
    Kind.CHOICE: 64,
}

# Bidirectional overrides, zero-width space and BOM: invisible, and used to spoof
# text. Zero-width (non-)joiners stay: scripts and emoji sequences need them.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
_DROP_CATEGORIES = {"Cc", "Cs"}  # control characters and lone surrogates
_NON_WORD = re.compile(r"[\W_]+")


@rule("text.coerce")
def coerce(value, ctx: Context) -> str | None:
    """Numbers become their plain decimal text (a whole float loses its ".0");
    dates become ISO 8601; lists, objects, booleans and other types are rejected."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise Reject(f"expected a text value, got {str(value).lower()}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Reject(f"expected a number, got {value}")
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date | datetime):
        return value.isoformat()[:10]
    raise Reject(f"expected a single value, got a {type(value).__name__}")


@rule("text.control_chars")
def strip_control(text: str, ctx: Context) -> str | None:
    """Control characters, lone surrogates, bidirectional overrides and zero-width
    spaces are removed; tabs and line breaks become spaces."""
    if text.isprintable():  # the usual case: every character dropped here is unprintable
        return text
    text = text.translate(_INVISIBLE)
    if text.isprintable():
        return text
    return "".join(
        " " if ch.isspace() else ch for ch in text if ch.isspace() or unicodedata.category(ch) not in _DROP_CATEGORIES
    )


@rule("text.nfc")
def nfc(text: str, ctx: Context) -> str | None:
    """Unicode NFC normalization: "e" + combining accent becomes "é", so the same
    word always has the same code points (accents are kept)."""
    return unicodedata.normalize("NFC", text)


@rule("text.whitespace")
def collapse_whitespace(text: str, ctx: Context) -> str | None:
    """Leading and trailing whitespace is trimmed and inner runs (including
    non-breaking spaces) collapse to one space; an all-blank value is empty."""
    return " ".join(text.split()) or None


@rule("text.truncate")
def truncate(text: str, ctx: Context) -> str | None:
    """Free text longer than 5,000 characters is cut there, with a warning."""
    if len(text) <= TEXT_LIMIT:
        return text
    ctx.warn(f"was {len(text)} characters long; cut to {TEXT_LIMIT}")
    return text[:TEXT_LIMIT].rstrip()


@rule("text.max_length")
def max_length(text: str, ctx: Context) -> str | None:
    """A value longer than its kind allows (255 characters for names and
    addresses, less for codes) is an error; the first characters are kept."""
    limit = LIMITS.get(ctx.kind, DEFAULT_LIMIT)
    if len(text) > limit:
        raise Reject(f"is {len(text)} characters long; at most {limit} are allowed", keep=text[:limit])
    return text


@rule("choice.slug")
def choice_slug(text: str, ctx: Context) -> str | None:
    """A choice is stored as its lowercase slug: "Distribution Center" becomes
    "distribution_center"."""
    return "_".join(fold(text).split()) or None


def fold(text) -> str:
    """The matching form of ``text``: accents and other scripts transliterated to
    ASCII (Unidecode), casefolded, punctuation and whitespace collapsed to single
    spaces. ``fold("  Zoë  O'Brien-Müller ")`` is ``"zoe o brien muller"``."""
    if text is None:
        return ""
    ascii_text = unidecode(unicodedata.normalize("NFC", str(text)))
    return " ".join(_NON_WORD.sub(" ", ascii_text.casefold()).split())
