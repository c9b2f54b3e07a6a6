"""Duplicate detection: blocking plus field-by-field similarity.

Contract (used by ingestion, the stewardship pages and find_duplicates):

    find_pairs(entity, records) -> list[ScoredPair]
        ``records``: list of cleaned value dicts (``masterdata.cleansing``'s
        ``CleanseResult.values``) each with an ``"id"`` key. Returns every pair
        scoring at or above the entity's review threshold, each once. From
        1,000 records on, the level weights are learned from the records
        themselves (``estimate.py``); the thresholds stay fixed.
    score_pair(entity, left, right) -> ScoredPair
        The score of two cleaned records, with a per-field explanation.
    score_pairs(entity, lefts, rights) -> list[ScoredPair]
        score_pair of many pairs in one vectorized pass, with the same results.
    blocking_keys(entity, values) -> set[str]
        The blocking keys of one record, stored on golden records so a new
        record finds its candidates with an indexed lookup.
    sort_positions(entity, records) -> list[bytes]; key_window(entity, key) -> int
        Where each record sorts inside a block, and how many neighbours on
        each side a key brings: a new record meets the golden records nearest
        it in a block, not the whole block (the batch matcher's window).
    thresholds(entity) -> Thresholds(review, link)

ScoredPair(left_id, right_id, score in [0, 1], fields: {field: similarity or None}, decision "link"|"review"|None)
"""

from masterdata.matching.engine import (
    blocking_keys,
    find_pairs,
    key_window,
    score_pair,
    score_pairs,
    sort_positions,
    thresholds,
)
from masterdata.matching.types import Decision, ScoredPair, Thresholds

__all__ = [
    "Decision",
    "ScoredPair",
    "Thresholds",
    "blocking_keys",
    "find_pairs",
    "key_window",
    "score_pair",
    "score_pairs",
    "sort_positions",
    "thresholds",
]
