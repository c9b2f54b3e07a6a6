"""Each file's own level weights, learned without labels (Fellegi-Sunter, as Splink does).

The configured weights (``config.py``) are a default for data of ordinary
quality. Files differ: one source retypes every field, another has streets so
varied that sharing one is near proof. ``find_pairs`` on a file of at least
``MIN_RECORDS`` records therefore re-estimates, for that file:

- **u** (how often two *different* people agree at a level): from random pairs
  of the file, which are almost never duplicates (Splink's
  ``estimate_u_using_random_sampling``).
- **m** (how often two records of *one* person agree at a level), per field,
  from *anchor* pairs: candidate pairs that the configured model, leaving that
  field and every rule reading it aside, already holds to be one person (at
  least ``ANCHOR_BITS`` of evidence). The field's levels among the anchors are
  its m. Leaving the field out keeps the estimate from only seeing pairs where
  it agrees; the other rules keep households and namesakes (pairs the
  configured rules single out) out of the anchors. The counts are shrunk
  towards the configured weight with ``PRIOR_PAIRS`` pseudo-pairs, so a field
  with few anchors keeps about its default.
- **the prior** (the chance that two random records are one person): the
  expected number of duplicates among the candidates, by the learned weights,
  over the number of pairs in the file, to a fixed point.

No ground truth is read: only the file itself. Levels listed in the
configuration's ``fixed_levels`` keep their configured weight, because their
agreement follows from another field's (a mailbox name is made of the person's
name, so namesakes share it) and the two would be counted twice.
The rules (``rules.py``) still cap every score afterwards.

``score_pair`` and ``score_pairs`` (one record against stored golden records)
keep the configured weights: a single pair says nothing about a file.
"""

import numpy as np

from masterdata.matching.comparators import Comparator
from masterdata.matching.config import EntityConfig
from masterdata.matching.frame import Frame
from masterdata.matching.scoring import Model, compare_levels, fixed_model, score_levels

# Smaller files keep the configured weights: too few pairs to estimate from.
MIN_RECORDS = 1_000
RANDOM_PAIRS = 50_000
# Candidate pairs the estimate reads at most (a random sample of them): bounds time and memory.
SAMPLE_PAIRS = 100_000
# log2 odds the other fields must give before a pair counts as an anchor (about 1,000 to 1).
ANCHOR_BITS = 10.0
# Pseudo-pairs of the configured weight mixed into each field's anchor counts.
PRIOR_PAIRS = 50.0
PRIOR_ROUNDS = 5
SEED = 20240601


def learn(config: EntityConfig, comparators: list[Comparator], frame: Frame, pairs: np.ndarray) -> Model | None:
    """The file's own model, or None (use the configured one) when the file is too small to learn from."""
    if frame.size < MIN_RECORDS or len(pairs) == 0:
        return None
    rng = np.random.default_rng(SEED)
    sample = pairs if len(pairs) <= SAMPLE_PAIRS else pairs[rng.choice(len(pairs), SAMPLE_PAIRS, replace=False)]
    left, right = sample[:, 0], sample[:, 1]
    levels = compare_levels(comparators, frame, left, right)
    random_left, random_right = _random_pairs(rng, frame.size)
    random_levels = compare_levels(comparators, frame, random_left, random_right)

    fixed = fixed_model(config, levels)
    fixed_total, contributions = score_levels(config, fixed, frame, left, levels)
    rule_masks = [(rule, rule.applies(levels.view)) for rule in config.rules]
    weights = {}
    for name, level_array in levels.arrays.items():
        count = len(levels.labels[name])
        u = _distribution(random_levels.arrays[name], count)
        # Anchors: confident matches without this field, flagged by no rule that reads it.
        anchor = (fixed_total - contributions[name] >= ANCHOR_BITS) & (level_array > 0)
        for rule, mask in rule_masks:
            if name not in rule.fields:
                anchor &= ~mask
        prior_m = u * np.exp2(fixed.weights[name])
        prior_m[0] = 0.0
        prior_m /= prior_m.sum() or 1.0
        counts = np.bincount(level_array[anchor], minlength=count).astype(float)
        counts[0] = 0.0
        m = (counts + PRIOR_PAIRS * prior_m) / (counts.sum() + PRIOR_PAIRS)
        learned = np.zeros(count)
        learned[1:] = np.log2(m[1:] / u[1:])
        for label in config.fixed_levels.get(name, ()):
            learned[levels.labels[name].index(label)] = fixed.weights[name][levels.labels[name].index(label)]
        weights[name] = learned
    model = Model(weights, config.prior)
    return Model(weights, _prior(config, model, frame, left, levels, len(pairs) / len(sample)))


def _random_pairs(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    left = rng.integers(0, size, RANDOM_PAIRS)
    right = rng.integers(0, size, RANDOM_PAIRS)
    keep = left != right
    return left[keep], right[keep]


def _distribution(level_array: np.ndarray, count: int) -> np.ndarray:
    """Each non-missing level's share (one pseudo-count each, so no level is impossible); "missing" 0."""
    counts = np.bincount(level_array, minlength=count).astype(float) + 1.0
    counts[0] = 0.0
    return counts / counts.sum()


def _prior(config: EntityConfig, model: Model, frame: Frame, left, levels, scale: float) -> float:
    """log2 of the share of duplicates among all pairs of the file, by the learned weights."""
    all_pairs = frame.size * (frame.size - 1) / 2
    prior = config.prior
    for _ in range(PRIOR_ROUNDS):
        total, _ = score_levels(config, Model(model.weights, prior), frame, left, levels)
        expected = float((1.0 / (1.0 + np.exp2(-total))).sum()) * scale
        prior = float(np.log2(max(expected, 1.0) / all_pairs))
    return prior
