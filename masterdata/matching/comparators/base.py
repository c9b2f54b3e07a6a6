"""The comparator base class and the array helpers the comparators share.

A comparator sorts each pair into one of its named *levels* ("exact",
"nickname", "typo", "different", …; level 0 is always "missing": a side has no
value) and gives a similarity in [0, 1] for the explanation a steward sees.
The entity's configuration gives each level a weight (``masterdata.matching.config``).

Comparators work on whole arrays of pairs (``left`` and ``right`` record
positions) with rapidfuzz's ``cpdist``, which scores aligned lists of strings
in C++ over both cores. They are a registry keyed by name (``comparators.REGISTRY``), so an entity's
configuration names its comparators and a new one is a new class.
"""

from dataclasses import dataclass

import numpy as np
from rapidfuzz import process

from masterdata.matching.frame import Frame, take

WORKERS = 2
# Below this many pairs one thread is faster: starting the worker threads costs more than the
# scoring (a single pair took 0.3 ms with two workers, most of an ingest's time).
PARALLEL_FROM = 10_000


@dataclass
class Comparison:
    """One comparator's verdict on every pair: a level index and a similarity per pair."""

    name: str
    field: str
    levels: np.ndarray  # int8 indexes into the comparator's LEVELS
    similarity: np.ndarray  # float in [0, 1], NaN where a side is missing


def cpdist(scorer, a: list, b: list, **kwargs) -> np.ndarray:
    """Element-wise scores of two aligned lists, as floats."""
    if not len(a):
        return np.zeros(0)
    workers = WORKERS if len(a) >= PARALLEL_FROM else 1
    return process.cpdist(a, b, scorer=scorer, workers=workers, **kwargs).astype(float)


def cpdist_where(scorer, column: np.ndarray, left, right, need: np.ndarray, fill: float, scale: float = 1.0):
    """Like :func:`cpdist` on ``column[left]`` and ``column[right]``, computed only where ``need`` holds
    (both sides present and not already equal) and ``fill`` elsewhere: most pairs need no fuzzy score."""
    out = np.full(len(left), fill, dtype=float)
    idx = np.flatnonzero(need)
    if len(idx):
        out[idx] = cpdist(scorer, column[left[idx]].tolist(), column[right[idx]].tolist()) / scale
    return out


def levels_from(choices: list[tuple[np.ndarray, int]], missing: np.ndarray, default: int) -> np.ndarray:
    """The first level whose condition holds for each pair; 0 where a side is missing."""
    conditions = [missing] + [c for c, _ in choices]
    values = [0] + [v for _, v in choices]
    return np.select(conditions, values, default).astype(np.int8)


class Comparator:
    """Base class: compares one field's matching form (``transform``) of both sides."""

    LEVELS: tuple[str, ...] = ("missing", "exact", "different")
    transform = "raw"

    def __init__(self, name: str, field: str | None = None, **options):
        self.name = name
        self.field = field or name
        self.options = options

    def level(self, label: str) -> int:
        return self.LEVELS.index(label)

    def compare(self, frame: Frame, left: np.ndarray, right: np.ndarray) -> list[Comparison]:
        codes = frame.codes(self.field, self.transform)
        missing = (codes[left] < 0) | (codes[right] < 0)
        exact = codes[left] == codes[right]
        levels = levels_from([(exact, 1)], missing, 2)
        return [Comparison(self.name, self.field, levels, self._similarity(levels, {1: 1.0}))]

    def _similarity(self, levels: np.ndarray, by_level: dict[int, float], default: float = 0.0) -> np.ndarray:
        sim = np.full(len(levels), default)
        for level, value in by_level.items():
            sim[levels == level] = value
        sim[levels == 0] = np.nan
        return sim

    def strings(self, frame: Frame, left: np.ndarray, right: np.ndarray, transform: str | None = None):
        col = frame.strings(self.field, transform or self.transform)
        return take(col, left), take(col, right)
