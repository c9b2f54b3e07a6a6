"""Records as columns: each derived matching form computed once per record.

Blocking and the comparators work on whole columns (numpy arrays indexed by
record position) rather than on one pair at a time, so 100,000 records cost a
few passes over arrays instead of millions of Python calls.
"""

from collections.abc import Callable, Sequence

import numpy as np

from masterdata.matching import normalize as nz

# A transform turns one cleaned value into its matching form, or None.
TRANSFORMS: dict[str, Callable[[str | None], str | None]] = {
    "raw": lambda v: str(v).strip() or None if v is not None else None,
    "fold": nz.fold,
    "name": nz.name,
    "initial": nz.initial,
    "phonetic": nz.phonetic,
    "metaphone": nz.metaphone,
    "company": nz.company_core,
    "street": nz.street_core,
    "street_number": nz.street_number,
    "street_name": nz.street_name,
    "email_local": nz.email_local,
    "email_alnum": nz.email_alnum,
    "email_digits": nz.email_digits,
    "digits": nz.digits,
    "last7": lambda v: nz.digits(v, last=7),
    "code": nz.code,
    "gtin": nz.gtin14,
    "year": nz.year,
    "name_tokens": nz.name_tokens,
    "prefix3": lambda v: nz.code(v)[:3] if nz.code(v) else None,
}


class Frame:
    """Cleaned records of one entity, with their matching forms computed on demand and cached."""

    def __init__(self, records: Sequence[dict]):
        self.records = records
        self.size = len(records)
        self.ids = [str(r.get("id", i)) for i, r in enumerate(records)]
        self._columns: dict[tuple[str, str], np.ndarray] = {}
        self._codes: dict[tuple[str, str], np.ndarray] = {}
        self._numbers: dict[tuple[str, str], np.ndarray] = {}

    def column(self, field: str, transform: str = "raw") -> np.ndarray:
        """The matching form of ``field`` for every record: an object array, None where missing."""
        key = (field, transform)
        if key not in self._columns:
            fn = TRANSFORMS[transform]
            raw = [r.get(field) for r in self.records]
            # Each distinct value is transformed once: names, cities and streets repeat.
            forms = {v: fn(v) for v in set(raw)}
            self._columns[key] = object_array([forms[v] for v in raw])
        return self._columns[key]

    def strings(self, field: str, transform: str = "raw") -> np.ndarray:
        """Like :meth:`column`, with "" instead of None (what rapidfuzz takes)."""
        col = self.column(field, transform)
        return np.where(self.missing(field, transform), "", col)

    def missing(self, field: str, transform: str = "raw") -> np.ndarray:
        return self.codes(field, transform) < 0

    def codes(self, field: str, transform: str = "raw") -> np.ndarray:
        """Integer codes of the matching form: equal values get equal codes, missing is -1."""
        key = (field, transform)
        if key not in self._codes:
            seen: dict[str, int] = {}
            col = self.column(field, transform)
            out = [-1 if v is None else seen.setdefault(v, len(seen)) for v in col]
            self._codes[key] = np.array(out, dtype=np.int64)
        return self._codes[key]

    def numbers(self, field: str, transform: str = "raw") -> np.ndarray:
        """The value as a float (amounts, weights), NaN where missing or not a number."""
        key = (field, transform)
        if key not in self._numbers:
            self._numbers[key] = np.array([_to_float(v) for v in self.column(field, transform)], dtype=float)
        return self._numbers[key]

    def prefix(self, field: str, transform: str, length: int) -> np.ndarray:
        """The first ``length`` characters of a matching form (None where missing)."""
        return self.derived(f"{field}:{transform}:{length}", lambda f: _cut(f.column(field, transform), length))

    def derived(self, name: str, build: Callable[["Frame"], np.ndarray]) -> np.ndarray:
        """A column computed by ``build(frame)`` once, cached under ``name``."""
        key = (name, "derived")
        if key not in self._columns:
            self._columns[key] = build(self)
        return self._columns[key]


def _cut(column: np.ndarray, length: int) -> np.ndarray:
    return object_array([v[:length] if v is not None else None for v in column])


def object_array(values: list) -> np.ndarray:
    """A 1-d object array of ``values`` (strings stay Python strings, None stays None)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _to_float(value) -> float:
    try:
        return float(value) if value is not None else np.nan
    except (TypeError, ValueError):
        return np.nan


def take(array: np.ndarray, index: np.ndarray) -> list:
    """``array[index]`` as a list (rapidfuzz's cpdist reads lists fastest)."""
    return array[index].tolist()
