"""The values the matching engine hands out."""

from dataclasses import dataclass, field


class Decision:
    LINK = "link"
    REVIEW = "review"


@dataclass(frozen=True)
class Thresholds:
    """Scores at or above ``link`` are merged automatically; from ``review`` up a steward decides."""

    review: float
    link: float

    def decide(self, score: float) -> str | None:
        if score >= self.link:
            return Decision.LINK
        if score >= self.review:
            return Decision.REVIEW
        return None


@dataclass(frozen=True)
class ScoredPair:
    """Two records' ids, their score in [0, 1], each field's similarity (None: a side has no value),
    the decision the thresholds give, and the rules that capped the score."""

    left_id: str
    right_id: str
    score: float
    fields: dict[str, float | None] = field(default_factory=dict)
    decision: str | None = None
    reasons: tuple[str, ...] = ()
