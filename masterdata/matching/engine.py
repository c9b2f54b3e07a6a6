"""The matching engine's public functions (see the package docstring for the contract)."""

from collections.abc import Iterator, Sequence
from functools import cache

import numpy as np

from masterdata.matching.blocking import candidate_pairs, record_keys
from masterdata.matching.config import EntityConfig, config_for
from masterdata.matching.estimate import learn
from masterdata.matching.frame import Frame, object_array
from masterdata.matching.normalize import fold
from masterdata.matching.scoring import Batch, build_comparators, score
from masterdata.matching.types import ScoredPair, Thresholds

# Pairs scored per batch: bounds memory (a few hundred MB at most) whatever the number of records.
BATCH = 400_000


def thresholds(entity: str) -> Thresholds:
    """The review and link thresholds of ``entity``."""
    return config_for(entity).thresholds


def blocking_keys(entity: str, values: dict) -> set[str]:
    """The blocking keys of one cleaned record; two records are compared when they share one."""
    return record_keys(Frame([values]), config_for(entity).keys)


RANK_BYTES = 200  # a sort position longer than this adds nothing (and must fit an index entry)


def sort_positions(entity: str, records: Sequence[dict]) -> list[bytes]:
    """Each record's place inside a block: its order fields folded, as the batch matcher sorts
    records (``_order``), as UTF-8 bytes, which sort alike in Python, PostgreSQL and SQLite
    (text would sort by the database's collation)."""
    order = config_for(entity).order
    return [" ".join(fold(record.get(field)) or "" for field in order).encode()[:RANK_BYTES] for record in records]


@cache
def _windows(entity: str) -> dict[str, int]:
    config = config_for(entity)
    return {spec.prefix: spec.window or config.window for spec in config.keys}


def key_window(entity: str, key: str) -> int:
    """How many neighbours on each side of a record a blocking key brings (its spec's window)."""
    return _windows(entity).get(key.partition(":")[0], config_for(entity).window)


def score_pair(entity: str, left: dict, right: dict) -> ScoredPair:
    """The score of two cleaned records, with each field's similarity and the decision."""
    config = config_for(entity)
    frame = Frame([left, right])
    batch = score(config, build_comparators(config), frame, np.array([0]), np.array([1]))
    return _pairs(frame, batch, np.array([0]), [0], [1], config.thresholds.decide)[0]


def score_pairs(entity: str, lefts: Sequence[dict], rights: Sequence[dict]) -> list[ScoredPair]:
    """``score_pair`` of each ``(lefts[k], rights[k])``, in one vectorized pass: the same scores and
    explanations (value frequencies are counted per pair, as ``score_pair`` does)."""
    if not lefts:
        return []
    config = config_for(entity)
    frame = Frame([*lefts, *rights])
    left, right = np.arange(len(lefts)), np.arange(len(lefts), 2 * len(lefts))
    batch = score(config, build_comparators(config), frame, left, right, pairwise=True)
    return _pairs(frame, batch, np.arange(len(lefts)), left, right, config.thresholds.decide)


def find_pairs(entity: str, records: Sequence[dict], min_score: float | None = None) -> list[ScoredPair]:
    """Every pair of ``records`` (cleaned value dicts with an ``"id"``) scoring at least the review threshold
    (or ``min_score``), each pair once, best first."""
    config = config_for(entity)
    floor = config.thresholds.review if min_score is None else min_score
    decide = _decider(config.thresholds, floor)
    frame = Frame(records)
    found = []
    for left, right, batch in score_candidates(config, frame):
        found.extend(_pairs(frame, batch, np.flatnonzero(batch.scores >= floor), left, right, decide))
    return sorted(found, key=lambda p: (-p.score, p.left_id, p.right_id))


def score_candidates(config: EntityConfig, frame: Frame) -> Iterator[tuple[np.ndarray, np.ndarray, Batch]]:
    """Block, then score every candidate pair of ``frame`` in batches: ``(left, right, batch)``."""
    pairs = candidate_pairs(frame, config.keys, _order(config, frame), config.window)
    comparators = build_comparators(config)
    model = learn(config, comparators, frame, pairs)  # the file's own weights; None: too small to learn from
    for start in range(0, len(pairs), BATCH):
        chunk = pairs[start : start + BATCH]
        left, right = chunk[:, 0], chunk[:, 1]
        yield left, right, score(config, comparators, frame, left, right, model=model)


def _order(config: EntityConfig, frame: Frame) -> np.ndarray:
    """Each record's rank when sorted by the entity's order fields (folded): ``sort_positions``."""
    keys = sort_positions(config.entity, frame.records)
    ranks = np.empty(frame.size, dtype=np.int64)
    ranks[np.argsort(object_array(keys), kind="stable")] = np.arange(frame.size)
    return ranks


def _decider(limits: Thresholds, floor: float):
    def decide(value: float) -> str | None:
        decision = limits.decide(value)
        return decision or ("review" if value >= floor else None)

    return decide


def _pairs(frame: Frame, batch: Batch, chosen: np.ndarray, left, right, decide) -> list[ScoredPair]:
    """ScoredPairs for the ``chosen`` positions of a batch (columns converted to lists once, not per pair)."""
    ids = frame.ids
    scores = batch.scores[chosen].tolist()
    fields = [c.field for c in batch.comparisons]
    sims = [np.round(c.similarity[chosen], 4).tolist() for c in batch.comparisons]
    capped = [(reason, mask[chosen].tolist()) for reason, mask in batch.reasons]
    out = []
    for k, i in enumerate(chosen.tolist()):
        explanation = {f: (None if s[k] != s[k] else s[k]) for f, s in zip(fields, sims, strict=True)}  # NaN: missing
        reasons = tuple(reason for reason, mask in capped if mask[k])
        value = scores[k]
        out.append(ScoredPair(ids[left[i]], ids[right[i]], value, explanation, decide(value), reasons))
    return out
