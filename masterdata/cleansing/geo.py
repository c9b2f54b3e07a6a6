"""Countries (ISO 3166-1 alpha-2 via pycountry), postcodes, and ``street_core``
(the matching form of a street)."""

import re
from functools import lru_cache

import pycountry

from masterdata.cleansing.base import Context, Reject, rule, short
from masterdata.cleansing.text import fold

# Folded names pycountry does not know: abbreviations, former and native names.
COUNTRY_ALIASES = {
    "uk": "GB", "u k": "GB", "great britain": "GB", "britain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northern ireland": "GB", "grossbritannien": "GB", "vereinigtes konigreich": "GB",
    "us": "US", "u s": "US", "usa": "US", "u s a": "US", "america": "US", "united states of america": "US",
    "vereinigte staaten": "US", "etats unis": "US", "estados unidos": "US",
    "deutschland": "DE", "germany": "DE", "allemagne": "DE", "alemania": "DE", "germania": "DE", "brd": "DE",
    "osterreich": "AT", "schweiz": "CH", "suisse": "CH", "svizzera": "CH", "holland": "NL",
    "the netherlands": "NL", "nederland": "NL", "niederlande": "NL", "pays bas": "NL", "belgie": "BE",
    "belgique": "BE", "belgien": "BE", "france": "FR", "frankreich": "FR", "espana": "ES", "spanien": "ES",
    "italia": "IT", "italien": "IT", "polska": "PL", "polen": "PL", "cesko": "CZ", "ceska republika": "CZ",
    "tschechien": "CZ", "sverige": "SE", "schweden": "SE", "norge": "NO", "danmark": "DK", "suomi": "FI",
    "eire": "IE", "magyarorszag": "HU", "hellas": "GR", "ellada": "GR", "portugal": "PT", "brasil": "BR",
    "mexico": "MX", "russia": "RU", "rossiya": "RU", "turkey": "TR", "turkiye": "TR", "ivory coast": "CI",
    "korea": "KR", "uae": "AE", "u a e": "AE", "emirates": "AE", "vatican": "VA", "burma": "MM",
    "zhongguo": "CN", "nippon": "JP", "nihon": "JP", "macedonia": "MK", "swaziland": "SZ",
}  # fmt: skip


def country_code(text) -> str | None:
    """The ISO 3166-1 alpha-2 code for a country name, alias, alpha-2, alpha-3 or
    numeric code ("Deutschland", "U.S.A.", "GBR", "276"); None when unknown."""
    return _country_code(str(text or "").strip())


@lru_cache(maxsize=4096)
def _country_code(text: str) -> str | None:
    folded = fold(text)
    if folded in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[folded]
    undotted = text.replace(".", "")
    for candidate in (undotted, folded):
        try:
            return pycountry.countries.lookup(candidate).alpha_2
        except LookupError:
            continue
    return None


@rule("country.iso_alpha2")
def country_alpha2(text: str, ctx: Context) -> str | None:
    """Countries become ISO 3166-1 alpha-2 codes, from English names, common
    native names and abbreviations ("Deutschland", "UK", "U.S.A."), alpha-3 and
    numeric codes. An unknown country is an error."""
    code = country_code(text)
    if code is None:
        raise Reject(f"{short(text)} is not a country we know (use a name or an ISO 3166 code)")
    return code


# Country -> (pattern of the postcode without spaces and dashes, what goes between its parts).
POSTCODE_FORMATS = {
    "GB": (re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)(\d[A-Z]{2})$"), " "),
    "IE": (re.compile(r"^([AC-FHKNPRTV-Y]\d{2}|D6W)([0-9AC-FHKNPRTV-Y]{4})$"), " "),
    "NL": (re.compile(r"^(\d{4})([A-Z]{2})$"), " "),
    "CA": (re.compile(r"^([A-Z]\d[A-Z])(\d[A-Z]\d)$"), " "),
    "SE": (re.compile(r"^(\d{3})(\d{2})$"), " "),
    "PL": (re.compile(r"^(\d{2})(\d{3})$"), "-"),
    "US": (re.compile(r"^(\d{5})(\d{4})?$"), "-"),  # ZIP+4 is optional
    "BR": (re.compile(r"^(\d{5})(\d{3})$"), "-"),
    "JP": (re.compile(r"^(\d{3})(\d{4})$"), "-"),
}
_SPACES_AND_DASHES = re.compile(r"[\s-]+")


@rule("postcode.format")
def postcode_format(text: str, ctx: Context) -> str | None:
    """Postcodes are upper-cased; for the record's country they get its usual
    spacing where we know it ("sw1a1aa" -> "SW1A 1AA" in GB, "1234ab" -> "1234 AB"
    in NL, "k1a0b1" -> "K1A 0B1" in CA, "12345 6789" -> "12345-6789" in US)."""
    text = text.upper()
    fmt = POSTCODE_FORMATS.get(ctx.values.get("country") or "")
    if fmt is None:
        return text
    pattern, separator = fmt
    match = pattern.match(_SPACES_AND_DASHES.sub("", text))
    if not match:
        ctx.warn(f"{short(text)} does not look like a postcode of {ctx.values['country']}")
        return text
    return separator.join(part for part in match.groups() if part)


# Matching forms of street words, after folding ("Straße" folds to "strasse").
STREET_WORDS = {
    "st": "street", "str": "strasse", "strase": "strasse", "rd": "road", "ave": "avenue", "av": "avenue",
    "blvd": "boulevard", "bd": "boulevard", "dr": "drive", "ln": "lane", "ct": "court", "pl": "place",
    "sq": "square", "hwy": "highway", "pkwy": "parkway", "cres": "crescent", "terr": "terrace", "ter": "terrace",
    "mt": "mount", "ste": "suite", "apt": "apartment", "fl": "floor", "bldg": "building", "n": "north",
    "s": "south", "e": "east", "w": "west", "ne": "northeast", "nw": "northwest", "se": "southeast",
    "sw": "southwest", "pza": "plaza", "c": "calle", "r": "rue",
}  # fmt: skip
_STR_SUFFIX = re.compile(r"(?<=\w)(str|strase)$")


def street_core(text) -> str:
    """The matching form of a street: folded, with abbreviations expanded, so
    "12 Main St." meets "12 main street" and "Hauptstr. 5" meets "Hauptstraße 5".
    ("St." is read as "street", never "saint": it only has to be consistent.)"""
    words = [STREET_WORDS.get(w, w) for w in fold(text).split()]
    return " ".join(_STR_SUFFIX.sub("strasse", w) for w in words)
