"""Matching forms of cleaned values: folded text, phonetic codes, nicknames, cores.

Cleansing (``masterdata.cleansing``) makes values canonical for storage; the
functions here make them comparable: accents folded, legal forms dropped,
street types spelled one way, names reduced to phonetic codes. Folding and the
company and street cores are cleansing's own (``fold``, ``company_core``,
``street_core``), so a value is folded the same way everywhere.

Every function takes ``None`` or a string and returns ``None`` for a value that
carries nothing to match on. Results are memoized: master data repeats the same
names, cities and streets many times, so 100,000 records fold only a few
thousand distinct strings.
"""

import re
from functools import lru_cache

import jellyfish
from unidecode import unidecode

from masterdata import cleansing

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_DIGITS = re.compile(r"\d+")
_CACHE = 1 << 18


_FOLD, _COMPANY_CORE, _STREET_CORE = cleansing.fold, cleansing.company_core, cleansing.street_core


@lru_cache(maxsize=_CACHE)
def fold(text: str | None) -> str | None:
    """Accent-folded, casefolded text with punctuation and whitespace collapsed."""
    if not text:
        return None
    return _FOLD(str(text)) or None


@lru_cache(maxsize=_CACHE)
def name(text: str | None) -> str | None:
    """A person name for comparison: folded, with hyphens and apostrophes removed ("O'Neil" = "ONeil")."""
    folded = fold(re.sub(r"['’`\-]", "", text) if text else text)
    return folded or None


@lru_cache(maxsize=_CACHE)
def phonetic(text: str | None) -> str | None:
    """Soundex of a folded name's longest token: tolerant of most one-letter typos after the first letter."""
    folded = name(text)
    if not folded:
        return None
    token = max(folded.split(), key=len)
    return jellyfish.soundex(token) if token.isalpha() else token


@lru_cache(maxsize=_CACHE)
def metaphone(text: str | None) -> str | None:
    """Metaphone of a folded name (sounds-alike spellings: "Stephen" and "Steven")."""
    folded = name(text)
    return jellyfish.metaphone(folded.replace(" ", "")) or None if folded else None


@lru_cache(maxsize=_CACHE)
def company_core(text: str | None) -> str | None:
    """A company name without its legal form ("ACME GmbH" and "Acme" have the same core)."""
    return (_COMPANY_CORE(str(text)) or None) if text else None


@lru_cache(maxsize=_CACHE)
def street_core(text: str | None) -> str | None:
    """A street line with street types abbreviated one way ("Main Street" = "main st")."""
    return (_STREET_CORE(str(text)) or None) if text else None


@lru_cache(maxsize=_CACHE)
def street_number(text: str | None) -> str | None:
    """The house numbers of a street line, joined ("12a Main St, Apt 4" gives "12 4")."""
    numbers = _DIGITS.findall(text or "")
    return " ".join(numbers) if numbers else None


@lru_cache(maxsize=_CACHE)
def street_name(text: str | None) -> str | None:
    """A street core without its numbers: what neighbours in the same street share."""
    core = street_core(text)
    if not core:
        return None
    return " ".join(t for t in core.split() if not t.isdigit()) or None


def email_local(email: str | None) -> str | None:
    """The letters of an email's mailbox name, without a ``+tag`` ("j.doe_72+shop" is "jdoe")."""
    if not email or "@" not in email:
        return None
    local = email.split("@", 1)[0].split("+", 1)[0]
    return "".join(ch for ch in local if ch.isalpha()) or None


def email_alnum(email: str | None) -> str | None:
    """An email's letters and digits only: "jack_davies@x.com" and "jack.davies@x.com" are one form."""
    return "".join(ch for ch in email if ch.isalnum()) or None if email else None


def email_digits(email: str | None) -> str | None:
    """The digits of an email's mailbox name ("" when it has none; None when there is no email)."""
    if not email or "@" not in email:
        return None
    return "".join(ch for ch in email.split("@", 1)[0] if ch.isdigit())


def digits(text: str | None, last: int | None = None) -> str | None:
    """The digits of a value (phones, tax ids, postcodes), optionally only the last ``last`` of them."""
    found = "".join(_DIGITS.findall(text or ""))
    if last:
        found = found[-last:] if len(found) >= min(last, 6) else ""
    return found or None


@lru_cache(maxsize=_CACHE)
def code(text: str | None) -> str | None:
    """An identifier (SKU, tax id, location code) with case, spaces and punctuation removed."""
    if not text:
        return None
    return _NON_ALNUM.sub("", unidecode(str(text)).casefold()) or None


def gtin14(text: str | None) -> str | None:
    """A GTIN padded to 14 digits, so a UPC-A and its EAN-13 form compare equal."""
    found = digits(text)
    return found.zfill(14) if found and len(found) in (8, 12, 13, 14) else found


def initial(text: str | None) -> str | None:
    """The first letter of a folded name."""
    folded = name(text)
    return folded[0] if folded else None


def year(date: str | None) -> str | None:
    """The year of an ISO date."""
    return date[:4] if date and len(date) >= 4 else None


@lru_cache(maxsize=_CACHE)
def name_tokens(text: str | None) -> str | None:
    """The two longest words of a folded name, sorted: a key that survives reordered or extra words."""
    words = [w for w in (fold(text) or "").split() if len(w) > 2 and not w.isdigit()]
    return " ".join(sorted(sorted(words, key=len, reverse=True)[:2])) or None
