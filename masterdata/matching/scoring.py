"""Turning comparator levels into a score: summed log2 weights, a probability, then the rules' caps."""

from dataclasses import dataclass

import numpy as np

from masterdata.matching.comparators import REGISTRY, Comparator, Comparison
from masterdata.matching.config import EntityConfig
from masterdata.matching.frame import Frame
from masterdata.matching.rules import cap_scores


class Levels:
    """The comparisons of a batch of pairs, queried by level name (what the rules read)."""

    def __init__(self, comparisons: list[Comparison], labels: dict[str, tuple[str, ...]]):
        self.by_name = {c.name: c for c in comparisons}
        self.labels = labels

    def any(self, name: str, *labels: str) -> np.ndarray:
        """Whether each pair's ``name`` comparison is at one of ``labels`` (all False if the entity has none)."""
        comparison = self.by_name.get(name)
        if comparison is None:
            return np.zeros(len(next(iter(self.by_name.values())).levels), dtype=bool)
        levels = comparison.levels
        found = np.zeros(len(levels), dtype=bool)
        for label in labels:  # a few labels: cheaper than np.isin's general machinery, called per rule
            found |= levels == self.labels[name].index(label)
        return found


@dataclass
class Batch:
    """Scores of a batch of pairs with what explains them."""

    scores: np.ndarray
    comparisons: list[Comparison]
    reasons: list[tuple[str, np.ndarray]]  # (rule's reason, pairs it capped)


def build_comparators(config: EntityConfig) -> list[Comparator]:
    return [REGISTRY[c.kind](c.name, c.field, **c.options) for c in config.comparisons]


def level_labels(comparator: Comparator, comparison: Comparison) -> tuple[str, ...]:
    """The level names of one of a comparator's comparisons (person names have two sets)."""
    return (
        getattr(comparator, "LAST_LEVELS", comparator.LEVELS) if comparison.name == "last_name" else comparator.LEVELS
    )


def weight_table(config: EntityConfig, name: str, labels: tuple[str, ...]) -> np.ndarray:
    """The weight of each level of comparison ``name``, indexable by level; "missing" weighs 0."""
    weights = config.weights.get(name, {})
    unknown = set(weights) - set(labels)
    if unknown:
        raise ValueError(f"{config.entity}: weights for unknown levels of {name}: {sorted(unknown)}")
    return np.array([weights.get(label, 0.0) for label in labels])


@dataclass(frozen=True)
class Model:
    """Level weights (comparison name -> log2 weight per level, "missing" 0) and the log2 prior odds."""

    weights: dict[str, np.ndarray]
    prior: float


@dataclass
class LevelSet:
    """Every comparison of a batch of pairs: level arrays by name, their labels, and the rules' view."""

    comparisons: list[Comparison]
    labels: dict[str, tuple[str, ...]]

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        return {c.name: c.levels for c in self.comparisons}

    @property
    def view(self) -> Levels:
        return Levels(self.comparisons, self.labels)


def compare_levels(comparators: list[Comparator], frame: Frame, left, right) -> LevelSet:
    """Run every comparator on the pairs ``(left[i], right[i])``."""
    comparisons, labels = [], {}
    for comparator in comparators:
        for comparison in comparator.compare(frame, left, right):
            labels[comparison.name] = level_labels(comparator, comparison)
            comparisons.append(comparison)
    return LevelSet(comparisons, labels)


def fixed_model(config: EntityConfig, levels: LevelSet) -> Model:
    """The configured weights and prior."""
    weights = {name: weight_table(config, name, labels) for name, labels in levels.labels.items()}
    return Model(weights, float(config.prior))


def score_levels(
    config: EntityConfig, model: Model, frame: Frame, left, levels: LevelSet, *, pairwise: bool = False
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Each pair's log2 odds of a match (prior, level weights, term frequencies) and each comparison's share."""
    total = np.full(len(left), float(model.prior))
    contributions = {}
    for name, level_array in levels.arrays.items():
        contributions[name] = model.weights[name][level_array]
        total += contributions[name]
    view = levels.view
    for name, (field, transform, typical) in config.frequencies.items():
        exact = view.any(name, "exact")
        adjustment = frequency_adjustment(frame, field, transform, typical, left, exact, pairwise=pairwise)
        contributions[name] = contributions[name] + adjustment
        total += adjustment
    return total, contributions


def score(
    config: EntityConfig,
    comparators: list[Comparator],
    frame: Frame,
    left,
    right,
    *,
    pairwise: bool = False,
    model: Model | None = None,
) -> Batch:
    """Score the pairs ``(left[i], right[i])`` of ``frame``.

    ``pairwise``: value frequencies as if each pair were a frame of its own (what
    ``score_pair`` sees), so many unrelated pairs score in one pass exactly as one by one.
    ``model``: weights learned from the file (``estimate.learn``); None: the configured ones.
    """
    levels = compare_levels(comparators, frame, left, right)
    total, _ = score_levels(config, model or fixed_model(config, levels), frame, left, levels, pairwise=pairwise)
    probability = 1.0 / (1.0 + np.exp2(-total))
    view = levels.view
    capped = [(rule.cap, rule.applies(view), rule.reason) for rule in config.rules] if len(left) else []
    scores = cap_scores(probability, [(cap, mask) for cap, mask, _ in capped], *_limits(config))
    return Batch(scores, levels.comparisons, [(reason, mask & (scores < probability)) for _, mask, reason in capped])


# Pseudo-records of a typical value mixed into the counts, so a small file (where every name is "frequent")
# keeps the typical weights, and the adjustment's bounds in bits.
PRIOR_RECORDS = 1_000
MAX_ADJUSTMENT = 4.0


def frequency_adjustment(
    frame: Frame, field: str, transform: str, typical: float, left, exact, *, pairwise: bool = False
) -> np.ndarray:
    """Extra log2 weight for pairs agreeing exactly on ``field``: log2(typical / this value's frequency).

    ``pairwise``: counted within each pair alone, where an exact match is 2 of 2 values.
    """
    if pairwise:
        seen, present = np.full(len(left), 2, dtype=np.int64), 2
    else:
        codes = frame.codes(field, transform)
        counts = np.bincount(codes[codes >= 0], minlength=1) if frame.size else np.zeros(1)
        present = int((codes >= 0).sum())
        seen = counts[np.maximum(np.where(exact, codes[left], 0), 0)]
    frequency = (seen + PRIOR_RECORDS * typical) / (present + PRIOR_RECORDS)
    adjustment = np.clip(np.log2(typical / frequency), -MAX_ADJUSTMENT, MAX_ADJUSTMENT)
    return np.where(exact, adjustment, 0.0)


def _limits(config: EntityConfig) -> tuple[float, float]:
    return config.thresholds.review, config.thresholds.link
