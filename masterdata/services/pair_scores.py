"""The matcher's scores for many (record, golden record) pairs of one page, computed in few passes.

``matching.score_pairs`` puts both sides of every pair in its frame: a page of
500 records with up to 200 candidates each would put every record in it 200
times, and the per-record work (folding names, phonetic codes) would dominate.
Here each distinct set of values is one row of the frame and pairs index into
it; the comparators, weights and rules are the matcher's own, with value
frequencies counted per pair (``pairwise``), so every score and explanation is
the one ``matching.score_pair`` gives (``test_ingest_batch.py`` checks it).
Explanations are built only for the pairs that become review candidates.

This reads the matcher's frame and scoring modules, not only its package API:
it would belong in ``masterdata.matching`` as a public "score these index
pairs" function.
"""

import json
from dataclasses import dataclass

import numpy as np

from masterdata.matching.config import config_for
from masterdata.matching.engine import _pairs  # the matcher's own explanation builder
from masterdata.matching.frame import Frame
from masterdata.matching.scoring import Batch, build_comparators, score
from masterdata.matching.types import ScoredPair


class ValueTable:
    """Distinct value dicts, each with a small integer id: equal values get one id."""

    def __init__(self):
        self.rows: list[dict] = []
        self._ids: dict = {}

    def id(self, values: dict) -> int:
        fingerprint = _fingerprint(values)
        found = self._ids.get(fingerprint)
        if found is None:
            found = self._ids[fingerprint] = len(self.rows)
            self.rows.append(values)
        return found


def _fingerprint(values: dict):
    items = tuple(sorted(values.items()))
    try:
        hash(items)
    except TypeError:  # a list or dict among the values (a steward's pinned value, say)
        return json.dumps(values, sort_keys=True, default=str)
    return items


@dataclass
class _Chunk:
    """One scoring pass: its frame, the matcher's batch, and the pairs' frame positions."""

    frame: Frame
    batch: Batch
    left: np.ndarray
    right: np.ndarray


class PairScores:
    """Scores of ``(left value id, right value id)`` pairs of a :class:`ValueTable`, cached."""

    def __init__(self, entity: str, table: ValueTable):
        self.config = config_for(entity)
        self.comparators = build_comparators(self.config)
        self.table = table
        self._found: dict[tuple[int, int], tuple[_Chunk, int]] = {}
        self._scores: dict[tuple[int, int], float] = {}

    def __contains__(self, pair: tuple[int, int]) -> bool:
        return pair in self._scores

    def score_all(self, pairs) -> None:
        """Score every pair not scored yet, in one vectorized pass."""
        known = self._scores
        todo = list(dict.fromkeys(p for p in pairs if p not in known))
        if not todo:
            return
        used = sorted({i for pair in todo for i in pair})
        position = {value_id: k for k, value_id in enumerate(used)}
        frame = Frame([self.table.rows[i] for i in used])
        left = np.array([position[a] for a, _ in todo], dtype=np.int64)
        right = np.array([position[b] for _, b in todo], dtype=np.int64)
        chunk = _Chunk(frame, score(self.config, self.comparators, frame, left, right, pairwise=True), left, right)
        for k, (pair, value) in enumerate(zip(todo, chunk.batch.scores.tolist(), strict=True)):
            self._found[pair] = (chunk, k)
            known[pair] = value

    def score(self, pair: tuple[int, int]) -> float:
        return self._scores[pair]

    def explain(self, pairs: list[tuple[int, int]]) -> list[ScoredPair]:
        """The full ScoredPair (per-field similarities, decision, capping rules) of scored pairs."""
        out: list[ScoredPair | None] = [None] * len(pairs)
        by_chunk: dict[int, tuple[_Chunk, list[tuple[int, int]]]] = {}
        for n, pair in enumerate(pairs):
            chunk, k = self._found[pair]
            by_chunk.setdefault(id(chunk), (chunk, []))[1].append((n, k))
        decide = self.config.thresholds.decide
        for chunk, wanted in by_chunk.values():
            chosen = np.array([k for _, k in wanted], dtype=np.int64)
            explained = _pairs(chunk.frame, chunk.batch, chosen, chunk.left, chunk.right, decide)
            for (n, _), pair in zip(wanted, explained, strict=True):
                out[n] = pair
        return out


def blocking_keys_many(entity: str, records: list[dict]) -> list[set[str]]:
    """``matching.blocking_keys`` of many records, each key spec computed once over all of them."""
    if not records:
        return []
    frame = Frame(records)
    columns = [spec.column(frame).tolist() for spec in config_for(entity).keys]
    return [{column[i] for column in columns if column[i] is not None} for i in range(len(records))]
