"""The person-name comparator: first and last names together, so swapped names are caught.

When a record's first and last names agree with the other record's last and
first names better than in their own order ("Smith John" and "John Smith"),
the two are compared crosswise.

First names have two levels beyond spelling: ``nickname`` ("Bob" and "Robert")
and ``other_name``: two different names that are both in the nickname table
("John" and "Joan", "Mark" and "Mary"). Those are alike to Jaro-Winkler but
are two people, which matters for households.
"""

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler

from masterdata.matching import nicknames
from masterdata.matching.comparators.base import Comparator, Comparison, cpdist, levels_from
from masterdata.matching.frame import Frame

HIGH = 0.92
MID = 0.8


def _name_parts(frame: Frame, first: str, last: str) -> np.ndarray:
    """Per record and per name field (first, last): a shared code of the folded name, its
    nickname-table id, the code of its initial, and whether it is a lone initial."""
    codes: dict[str, int] = {}
    out = np.full((2, frame.size, 4), -1, dtype=np.int64)
    for row, field in enumerate((first, last)):
        for i, value in enumerate(frame.column(field, "name")):
            if value is not None:
                out[row, i] = (
                    codes.setdefault(value, len(codes)),
                    nicknames.name_id(value),
                    ord(value[0]),
                    len(value) == 1,
                )
    return out


class PersonNameComparator(Comparator):
    """First and last names (options ``first`` and ``last``: the two field names)."""

    FIRST_LEVELS = ("missing", "exact", "nickname", "initial", "high", "mid", "other_name", "different")
    LAST_LEVELS = ("missing", "exact", "high", "mid", "different")
    LEVELS = FIRST_LEVELS

    def __init__(self, name: str, field: str | None = None, **options):
        super().__init__(name, field, **options)
        self.first = options.get("first", "first_name")
        self.last = options.get("last", "last_name")

    def level(self, label: str) -> int:
        return self.FIRST_LEVELS.index(label)

    def last_level(self, label: str) -> int:
        return self.LAST_LEVELS.index(label)

    def compare(self, frame, left, right):
        strings = np.stack([frame.strings(self.first, "name"), frame.strings(self.last, "name")])
        parts = frame.derived("person_name:parts", lambda f: _name_parts(f, self.first, self.last))
        swapped = self._swapped(strings, left, right)
        # The right side's "first" is its last name where the pair is swapped, and the other way round.
        rf, rl = swapped.astype(np.int64), 1 - swapped.astype(np.int64)
        first_levels, first_sim = self._first(strings[0, left], strings[rf, right], parts[0, left], parts[rf, right])
        last_levels, last_sim = self._last(strings[1, left], strings[rl, right], parts[1, left], parts[rl, right])
        return [
            Comparison("first_name", self.first, first_levels, first_sim),
            Comparison("last_name", self.last, last_levels, last_sim),
        ]

    def _swapped(self, strings: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Pairs whose names agree crosswise (first against last) clearly better than straight."""
        fl, ll, fr, lr = strings[0, left], strings[1, left], strings[0, right], strings[1, right]
        present = (fl != "") & (fr != "") & (ll != "") & (lr != "") & ((fl != fr) | (ll != lr))
        cross = np.zeros(len(left))
        if present.any():
            idx = np.flatnonzero(present)
            straight = np.minimum(_jw(fl[idx], fr[idx]), _jw(ll[idx], lr[idx]))
            crossed = np.minimum(_jw(fl[idx], lr[idx]), _jw(ll[idx], fr[idx]))
            cross[idx] = np.where(crossed > straight, crossed, 0.0)
        return cross >= HIGH

    def _first(self, a, b, pa, pb):
        missing = (pa[:, 0] < 0) | (pb[:, 0] < 0)
        exact = (pa[:, 0] == pb[:, 0]) & ~missing
        sim = _jw_where(a, b, ~missing & ~exact)
        initial = ((pa[:, 3] == 1) | (pb[:, 3] == 1)) & (pa[:, 2] == pb[:, 2])
        nick = nicknames.linked(pa[:, 1], pb[:, 1])
        known_other = (pa[:, 1] >= 0) & (pb[:, 1] >= 0) & ~nick
        levels = levels_from(
            [(exact, 1), (nick, 2), (initial, 3), (known_other & (sim < HIGH), 6), (sim >= HIGH, 4), (sim >= MID, 5)],
            missing,
            7,
        )
        sim = np.where(nick | exact, 1.0, np.where(initial, 0.5, sim))
        return levels, np.where(missing, np.nan, sim)

    def _last(self, a, b, pa, pb):
        missing = (pa[:, 0] < 0) | (pb[:, 0] < 0)
        exact = (pa[:, 0] == pb[:, 0]) & ~missing
        need = ~missing & ~exact
        sim = _jw_where(a, b, need)
        idx = np.flatnonzero(need)
        if len(idx):  # compound surnames: "Garcia Lopez" and "Garcia"
            tokens = cpdist(fuzz.token_set_ratio, a[idx].tolist(), b[idx].tolist()) / 100 * 0.97
            sim[idx] = np.maximum(sim[idx], tokens)
        levels = levels_from([(exact, 1), (sim >= HIGH, 2), (sim >= MID, 3)], missing, 4)
        return levels, np.where(missing, np.nan, np.where(exact, 1.0, sim))


def _jw(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return cpdist(JaroWinkler.normalized_similarity, a.tolist(), b.tolist())


def _jw_where(a: np.ndarray, b: np.ndarray, need: np.ndarray) -> np.ndarray:
    """Jaro-Winkler where ``need`` holds, 1.0 elsewhere (equal or missing names need no score)."""
    out = np.ones(len(a))
    idx = np.flatnonzero(need)
    if len(idx):
        out[idx] = _jw(a[idx], b[idx])
    return out
