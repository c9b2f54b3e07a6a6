"""First-name nicknames: "Bob" is "Robert", "Liz" is "Elizabeth".

The table is the hand-curated one of the ``nicknames`` package (about 2,700
name/nickname links, English names). Only direct links count: two nicknames
of the same name ("Bill" and "Bob", both listed under "Robert") are not taken
as one another, since the package lists a few loose links.
"""

from functools import lru_cache

import numpy as np
from nicknames import NickNamer

from masterdata.matching.normalize import name


def _links() -> dict[str, set[str]]:
    return NickNamer().nickname_lookup


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, int], np.ndarray]:
    """Name ids and the sorted codes ``a * n + b`` of every linked pair, in both directions."""
    links = {name(full): {name(n) for n in nicks} for full, nicks in _links().items()}
    names = sorted({full for full in links} | {n for nicks in links.values() for n in nicks} - {None})
    ids = {n: i for i, n in enumerate(names)}
    size = len(names)
    codes = [
        code
        for full, nicks in links.items()
        for n in nicks
        if full in ids and n in ids and full != n
        for code in (ids[full] * size + ids[n], ids[n] * size + ids[full])
    ]
    return ids, np.unique(np.array(codes, dtype=np.int64))


def name_id(folded: str | None) -> int:
    """The id of a folded first name in the nickname table, or -1."""
    return _table()[0].get(folded, -1) if folded else -1


def linked(left_ids: np.ndarray, right_ids: np.ndarray) -> np.ndarray:
    """Whether each pair of name ids is a name and its nickname (either way round)."""
    ids, codes = _table()
    known = (left_ids >= 0) & (right_ids >= 0)
    pair = left_ids.astype(np.int64) * len(ids) + right_ids
    # A binary search in the sorted codes: np.isin would sort the whole table again on every call.
    at = np.minimum(np.searchsorted(codes, pair), len(codes) - 1)
    return known & (codes[at] == pair)


def are_nicknames(left: str | None, right: str | None) -> bool:
    """Whether two first names are a name and its nickname ("Bob", "Robert")."""
    a, b = name_id(name(left)), name_id(name(right))
    return bool(linked(np.array([a]), np.array([b]))[0])
