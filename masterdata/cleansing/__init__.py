"""Cleansing and standardization of incoming master-data records.

Contract (used by ingestion, the find_duplicates command and the sync engine):

    cleanse(entity, raw, *, locale=None) -> CleanseResult

- ``raw``: the source's values keyed by the entity's field names
  (``masterdata.entities.SCHEMAS``); any value may be missing, empty or junk.
- ``locale``: the source's declared locale (e.g. "en_US", "de_DE", "en_GB"),
  used to resolve ambiguous day/month dates.
- ``CleanseResult.values``: canonical, JSON-serializable values for every field
  of the entity (None when empty): dates ISO strings, amounts decimal strings,
  phones E.164, countries ISO alpha-2, emails lowercase. Golden values keep
  accents and proper casing.
- ``CleanseResult.changes``: [Change(field, before, after, rule)] for every value
  a rule altered, so a steward sees why a value differs from what was sent.
- ``CleanseResult.errors``: {field: readable reason}; non-empty means the record
  is quarantined, never dropped.
- ``CleanseResult.warnings``: {field: readable reason} for values kept but
  flagged (e.g. a date whose day/month order is still ambiguous).

    fold(text) -> str

Matching form of a text: accents folded, casefolded, punctuation and
whitespace collapsed. Used by ``masterdata.matching``.
"""

from masterdata.cleansing.base import RULES, Change, CleanseResult, Reject, Rule
from masterdata.cleansing.companies import company_core
from masterdata.cleansing.geo import country_code, street_core
from masterdata.cleansing.pipeline import cleanse
from masterdata.cleansing.text import fold
from masterdata.cleansing.units import convert, find_unit

__all__ = [
    "RULES",
    "Change",
    "CleanseResult",
    "Reject",
    "Rule",
    "cleanse",
    "company_core",
    "convert",
    "country_code",
    "find_unit",
    "fold",
    "street_core",
]
