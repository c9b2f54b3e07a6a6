"""Blocking: which pairs of records are worth scoring at all.

Each record gets several blocking keys (phonetic surname plus first initial,
email, phone digits, postcode plus name prefix, date of birth plus initial,
…); two records become a candidate pair when they share any key, so a typo in
one field still leaves the others to bring the pair together.

A key shared by very many records (a common surname in a big city, a shop's
placeholder email) would make its block quadratic. Inside each block records
are sorted by name and only neighbours at most ``window`` places apart are
paired (the sorted-neighbourhood method), so every block costs
``size * window`` at most and the whole run grows linearly with the records.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from masterdata.matching.frame import Frame


@dataclass(frozen=True)
class KeySpec:
    """A blocking key: ``prefix`` plus the matching forms of ``parts`` (field, transform, length).

    Specs sharing a prefix share one key space, so mirrored specs (surname plus
    first initial, first name plus surname initial) also pair records whose
    first and last names were swapped. A key is None when any part is missing
    or shorter than ``min_length``.
    """

    prefix: str
    parts: tuple[tuple[str, str, int | None], ...]
    min_length: int = 1
    window: int | None = None  # this key's own window; None: the entity's

    def column(self, frame: Frame) -> np.ndarray:
        """Every record's key (an object array, None where a part is missing), built array-wise."""
        keys = np.full(frame.size, self.prefix + ":", dtype=object)
        missing = np.zeros(frame.size, dtype=bool)
        for i, (field, transform, length) in enumerate(self.parts):
            values = frame.prefix(field, transform, length) if length else frame.column(field, transform)
            short = f"{field}:{transform}:{length}:shorter than {self.min_length}"
            missing |= frame.derived(short, _too_short(values, self.min_length))
            keys = keys + (np.where(missing, "", values) if i == 0 else "|" + np.where(missing, "", values))
        keys[missing] = None
        return keys


def _too_short(values: np.ndarray, min_length: int):
    return lambda frame: np.array([v is None or len(v) < min_length for v in values], dtype=bool)


def record_keys(frame: Frame, specs: Sequence[KeySpec], position: int = 0) -> set[str]:
    """The blocking keys of one record of ``frame``."""
    return {k for spec in specs if (k := spec.column(frame)[position]) is not None}


def candidate_pairs(frame: Frame, specs: Sequence[KeySpec], order: np.ndarray, window: int) -> np.ndarray:
    """Every pair of records sharing a key, as an ``(n, 2)`` array of positions with left < right.

    ``order`` ranks the records (by name, say) so that within a block the
    closest records are neighbours; blocks larger than ``window + 1`` only pair
    records at most ``window`` apart in that order.
    """
    found = []
    for width, group in _by_window(specs, window).items():
        rows, hashes = [], []
        for spec in group:
            keys = spec.column(frame)
            present = np.flatnonzero(keys != None)  # noqa: E711 - element-wise comparison
            rows.append(present)
            hashes.append(np.fromiter((hash(k) for k in keys[present]), dtype=np.int64, count=len(present)))
        rows_all, hashes_all = np.concatenate(rows), np.concatenate(hashes)
        sort = np.lexsort((order[rows_all], hashes_all))
        found.append(_window_codes(rows_all[sort], hashes_all[sort], width, frame.size))
    unique = np.unique(np.concatenate(found)) if found else np.empty(0, dtype=np.int64)
    pairs = np.column_stack((unique // frame.size, unique % frame.size))
    return pairs[pairs[:, 0] != pairs[:, 1]]


def _by_window(specs: Sequence[KeySpec], default: int) -> dict[int, list[KeySpec]]:
    groups: dict[int, list[KeySpec]] = {}
    for spec in specs:
        groups.setdefault(spec.window or default, []).append(spec)
    return groups


def _window_codes(rows: np.ndarray, hashes: np.ndarray, window: int, size: int) -> np.ndarray:
    """Pair codes ``left * size + right`` of records sharing a key at most ``window`` apart in the sort."""
    codes = [np.empty(0, dtype=np.int64)]
    for distance in range(1, min(window, len(rows) - 1) + 1):
        same = np.flatnonzero(hashes[:-distance] == hashes[distance:])
        if not len(same):
            break
        a, b = rows[same], rows[same + distance]
        codes.append(np.minimum(a, b) * size + np.maximum(a, b))
    return np.concatenate(codes)
